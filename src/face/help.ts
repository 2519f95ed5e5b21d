// What `angel --help` says after the options: examples, the signals, the exit statuses (and `angel help
// completion`, where the scripts go). The options themselves come from the option table (face/flags.ts).
export const HELP_AFTER = `
Examples (server.mjs and lighttpd.conf are the README's, under Quick start and lighttpd):
  angel --listen 8080 --ready fd --max-mem 512M -- node server.mjs
      angel holds port 8080 (the server takes it from fd 3) and restarts the server past 512 MiB; SIGHUP starts
      the next one, waits for its ready line, then stops the old one, which drains: nothing refused, nothing lost
  angel --listen 8080 --stop-signal SIGINT --max-mem 1G -- lighttpd -D -f lighttpd.conf
      lighttpd takes the socket (server.systemd-socket-activation); ready at exec, since it writes no ready
      line; SIGINT, its graceful stop, ends the old one at a reload
  angel --log-file app.log --log-timestamps --log-max-size 10M --log-keep 5 --listen 8080 --ready fd -- node server.mjs
      the server's lines stamped in ISO 8601 into app.log, rotated to app.log.1 … app.log.5 before it passes 10 MiB
  angel check --config angel.json
      every check a run makes (user, program on PATH, log file, root rule, lock), nothing started

Durations (--kill-timeout, --min-uptime, …): a number of ms (of seconds for --restart-window), or with units
  ms, s, m, h, combinable: 5s, 500ms, 1m30s, "1min 30s". Sizes: bytes, or 512M, 1.5G (binary).

Signals to angel:
  SIGHUP           graceful restart (re-reads --config and --env-file; a bad one keeps the running child)
  SIGINT, SIGTERM  graceful shutdown: the signal to the child, SIGKILL after --kill-timeout
  SIGUSR1          with --log-file: reopen it, after logrotate's rename (not forwarded); without: forwarded
  others           forwarded to the child (never SEGV, BUS, FPE, ILL, ABRT, TRAP, SYS, CHLD)
  --rewrite SIGTERM:SIGINT  the child gets SIGINT where angel got SIGTERM (lighttpd's graceful stop)

Exit status:
  the child's (its code, or 128 + the signal that ended it); 2 bad usage or config;
  126 the program cannot be run (or the root rule refused it); 127 the program was not found
`;

/** Where each shell finds the script: a file its completion system loads on demand (bash-completion's
 * directory; a directory on zsh's fpath), or an eval at start-up. */
export const COMPLETION_HELP = `
  mkdir -p ~/.local/share/bash-completion/completions && angel completion bash > ~/.local/share/bash-completion/completions/angel
  mkdir -p ~/.zfunc && angel completion zsh > ~/.zfunc/_angel
bash-completion loads the first when angel is completed; zsh finds the second with fpath=(~/.zfunc $fpath) before
compinit in ~/.zshrc. Or: eval "$(angel completion bash)" in ~/.bashrc, eval "$(angel completion zsh)" in
~/.zshrc after compinit.`;
