// The child's environment: angel's own, less what describes angel's own activation, plus --env and
// ANGEL_GENERATION. LISTEN_*, NOTIFY_SOCKET, WATCHDOG_* and an outer angel's ANGEL_READY_FD addressed angel
// (sd_listen_fds(3) and sd_notify(3) say to unset them; with --ready notify a child gets a NOTIFY_SOCKET of its
// own), NODE_CHANNEL_FD would make a Node child adopt a channel fd it does not have, and an outer angel's
// ANGEL_GENERATION counts angel's generations, not the child's (each start sets its own), and its ANGEL_INSTANCE
// names that angel (each angel sets its own).
import * as util from 'node:util';
import { UsageError } from './errors.js';
import { MAX_ENV } from './parse.js';

const ANGEL_ONLY = /^(LISTEN_PID|LISTEN_FDS|LISTEN_FDNAMES|NOTIFY_SOCKET|WATCHDOG_USEC|WATCHDOG_PID|NODE_CHANNEL_FD|NODE_CHANNEL_SERIALIZATION_MODE|ANGEL_READY_FD|ANGEL_GENERATION|ANGEL_INSTANCE)$/;

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

// A locale or language name as glibc and gettext take it (en_US.UTF-8, de_DE@euro, C): no `/` (a name with one
// is a path glibc loads a locale or a catalog from: LANGUAGE=../../tmp/x read the user's own .mo, format
// strings and all, in a root process), no `..`, no `%`.
const NAME = '[A-Za-z][A-Za-z0-9_.@+-]{0,63}';
const LOCALE = new RegExp(`^(?!.*\\.\\.)${NAME}$`);

/** What a user angel is root for may hand the child (with --env, or from their own environment, which sudo's
 * env_reset keeps): sudo's env_check set and the terminal's size, each value checked as env_check checks it.
 * Everything else is the admin's to give, in a root-owned --config. */
const FOR_ROOT: ReadonlyArray<{ name: RegExp; value: RegExp }> = [
  { name: /^(TERM|COLORTERM)$/, value: /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/ },
  { name: /^NO_COLOR$/, value: /^[A-Za-z0-9]{0,16}$/ },
  { name: /^(LANG|LC_[A-Z]+)$/, value: LOCALE },
  { name: /^LANGUAGE$/, value: new RegExp(`^(?!.*\\.\\.)${NAME}(:${NAME})*$`) },
  // a zone by name (Europe/Berlin) or a POSIX rule (EST5EDT,M3.2.0,M11.1.0); never a path of the user's choosing
  { name: /^TZ$/, value: /^(?!.*\.\.):?[A-Za-z0-9_+,.<>-]{1,64}(\/[A-Za-z0-9_+,.<>-]{1,64}){0,3}$/ },
  { name: /^(COLUMNS|LINES)$/, value: /^[0-9]{1,5}$/ },
];

/** The variables a user angel is root for may give, as help and errors name them. */
export const ALLOWED_FOR_USER = 'TERM, COLORTERM, NO_COLOR, LANG, LANGUAGE, LC_*, TZ, COLUMNS, LINES';

/** Whether a variable may reach a root child from the user angel acts for: its name on the allowlist, its
 * value of the shape that name takes. */
export function allowedForUser(name: string, value: string): boolean {
  const rule = FOR_ROOT.find((entry) => entry.name.test(name));
  return rule !== undefined && rule.value.test(value);
}

/** The environment of a child that angel starts as root for another user: PATH, HOME, USER and LOGNAME set
 * by angel, what of angel's own environment allowedForUser keeps (sudo's env_reset and env_check), plus
 * `extra`, which the caller has checked (allowedForUser for the user's variables; a root-owned config's are
 * the admin's word). */
export function childEnvironmentForRoot(
  base: Readonly<Record<string, string | undefined>>,
  extra: Readonly<Record<string, string>>,
  account: { home: string; name: string },
): Record<string, string> {
  const env: Record<string, string> = { PATH: SECURE_PATH, HOME: account.home, USER: account.name, LOGNAME: account.name };
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && allowedForUser(key, value)) env[key] = value;
  }
  return Object.assign(env, extra);
}

/** A name a shell can export, as systemd's EnvironmentFile= takes it: Node's dotenv parser makes a line without
 * `=` into the start of the next line's name. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The variables of a dotenv file's text, read by Node's own parser (util.parseEnv: `export`, quotes, `#`
 * comments); `name` and `file` are what an error names. */
export function parseEnvText(text: string, name: string, file: string): Record<string, string> {
  // named import would fail to link on a Node that lacks it, taking angel down with it
  const parse = (util as { parseEnv?: (content: string) => Record<string, string | undefined> }).parseEnv;
  if (typeof parse !== 'function') throw new UsageError(name, file, `expected a Node with util.parseEnv (20.12 or later) to read it; this is ${process.version}`);
  const env: Record<string, string> = {};
  const entries = Object.entries(parse(text));
  if (entries.length > MAX_ENV) throw new UsageError(name, file, `expected at most ${MAX_ENV} variables`);
  for (const [key, value = ''] of entries) {
    if (!VARIABLE_NAME.test(key)) throw new UsageError(name, file, `expected lines NAME=value, NAME of letters, digits and _ not starting with a digit, but one names ${JSON.stringify(key.slice(0, 64))}`);
    if (value.includes('\0')) throw new UsageError(name, file, `expected values without NUL bytes, but ${key} has one`);
    env[key] = value;
  }
  return env;
}
