// What `angel --help` says after the options: examples, the signals, the exit statuses. The options themselves
// come from the option table (face/flags.ts).
export const HELP_AFTER = `
Examples:
  angel --max-mem 512M -- node server.js
      restart the server whenever its process tree holds more than 512 MiB
  angel --listen 8080 --ready fd --max-mem 1G --stop-signal SIGINT -- lighttpd -D -f lighttpd.conf
      angel holds port 8080 (the server takes it from fd 3); a reload starts the next one before stopping the old
  angel --log-file /var/log/app.log --log-timestamps --log-max-size 10M --log-keep 5 -- ./app
      the app's lines stamped in ISO 8601, the file rotated to app.log.1 … app.log.5 before it passes 10 MiB
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
