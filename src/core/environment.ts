// The child's environment: angel's own, less what describes angel's own activation, plus --env and
// ANGEL_GENERATION. LISTEN_*, NOTIFY_SOCKET, WATCHDOG_* and an outer angel's ANGEL_READY_FD addressed angel
// (sd_listen_fds(3) and sd_notify(3) say to unset them; with --ready notify a child gets a NOTIFY_SOCKET of its
// own), NODE_CHANNEL_FD would make a Node child adopt a channel fd it does not have, and an outer angel's
// ANGEL_GENERATION counts angel's generations, not the child's (each start sets its own).
const ANGEL_ONLY = /^(LISTEN_PID|LISTEN_FDS|LISTEN_FDNAMES|NOTIFY_SOCKET|WATCHDOG_USEC|WATCHDOG_PID|NODE_CHANNEL_FD|NODE_CHANNEL_SERIALIZATION_MODE|ANGEL_READY_FD|ANGEL_GENERATION)$/;

/** angel's environment (only its PATH with `clear`) less its own activation variables, plus `extra`;
 * ANGEL_GENERATION is added per start. */
export function childEnvironment(
  base: Readonly<Record<string, string | undefined>>,
  extra: Readonly<Record<string, string>>,
  clear = false,
): Record<string, string> {
  const env: Record<string, string> = {};
  if (clear) {
    if (base.PATH !== undefined) env.PATH = base.PATH;
    return Object.assign(env, extra);
  }
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && !ANGEL_ONLY.test(key)) env[key] = value;
  }
  return Object.assign(env, extra);
}

/** The PATH a child gets when angel is root for another user: sudo's secure_path. A PATH that user gave
 * would decide which `ls` a root shell script runs. */
const SECURE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What a root child inherits from the environment of the user it was started for (sudo's env_reset): the
 * terminal and locale, and a locale or time zone only by name (glibc reads a locale or zone from a path
 * named there). */
const KEPT_FOR_ROOT = /^(TERM|COLORTERM|LANG|LANGUAGE|LC_[A-Z]+|TZ|COLUMNS|LINES)$/;

/** Variables that make a program load code, or read its settings, from a path they name: the dynamic
 * loader's and glibc's unsecure list (LD_*, GCONV_PATH, …), shells', and the interpreters' (Node, Python,
 * Perl, Ruby, Java, Lua, Tcl, PHP), OpenSSL's and git's; PATH and HOME, which angel sets itself. Given with
 * --env by a user angel runs as root for, each is refused: it would run that user's code as root. */
export const RUNS_CODE = new RegExp(
  '^(' +
    [
      'LD_[A-Z_]*', 'GCONV_PATH', 'GETCONF_DIR', 'GLIBC_TUNABLES', 'HOSTALIASES', 'LOCALDOMAIN', 'LOCPATH', 'MALLOC_[A-Z_]*',
      'NIS_PATH', 'NLSPATH', 'RESOLV_HOST_CONF', 'RES_OPTIONS', 'TMPDIR', 'TZDIR',
      'BASH_ENV', 'ENV', 'BASH_FUNC_.*', 'SHELLOPTS', 'BASHOPTS', 'PS4', 'IFS', 'CDPATH', 'GLOBIGNORE',
      'NODE_OPTIONS', 'NODE_PATH', 'NODE_REPL_EXTERNAL_MODULE', 'NODE_EXTRA_CA_CERTS',
      'PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'PYTHONUSERBASE', 'PYTHONBREAKPOINT', 'PYTHONEXECUTABLE',
      'PYTHONPLATLIBDIR', 'PYTHONPYCACHEPREFIX', 'PYTHONINSPECT',
      'PERL5LIB', 'PERLLIB', 'PERL5OPT', 'PERL5DB', 'PERLIO_DEBUG', 'RUBYLIB', 'RUBYOPT', 'GEM_HOME', 'GEM_PATH',
      'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH', 'JAVA_HOME',
      'LUA_PATH.*', 'LUA_CPATH.*', 'LUA_INIT.*', 'TCLLIBPATH', 'PHPRC', 'PHP_INI_SCAN_DIR',
      'OPENSSL_CONF', 'OPENSSL_ENGINES', 'OPENSSL_MODULES', 'SSLKEYLOGFILE', 'GIT_[A-Z_]*',
      'XDG_CONFIG_HOME', 'XDG_CONFIG_DIRS', 'XDG_DATA_HOME', 'XDG_DATA_DIRS', 'PATH', 'HOME',
    ].join('|') +
    ')$',
);

/** The environment of a child that angel starts as root for another user: only KEPT_FOR_ROOT of angel's
 * own, PATH and HOME set by angel, plus `extra`, which the caller has checked against RUNS_CODE. */
export function childEnvironmentForRoot(
  base: Readonly<Record<string, string | undefined>>,
  extra: Readonly<Record<string, string>>,
  account: { home: string; name: string },
): Record<string, string> {
  const env: Record<string, string> = { PATH: SECURE_PATH, HOME: account.home, USER: account.name, LOGNAME: account.name };
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && KEPT_FOR_ROOT.test(key) && !/[/%]|\.\./.test(value)) env[key] = value;
  }
  return Object.assign(env, extra);
}
