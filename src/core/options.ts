// Pure: the one table of options. Each row is one option: its config key, its flag, the help group and text,
// its parser and its default. The CLI's commander options (face/cli.ts), the config file's keys, FLAGS,
// DEFAULTS, the resolved type and resolveOptions are all derived from it: adding an option is adding a row
// (and its line in the public Options type, which the compiler holds to the table).
import { MissingProgramError, UsageError } from './errors.js';
import { sameSocket, type ListenSpec } from './addresses.js';
import type { Rlimits } from './limits.js';
import { memoryCap, showCap, type MemoryCap } from './memory.js';
import {
  count, environment, envFiles, fileMode, flag, hasNul, identity, listenSpecs, MAX_ARGS, MAX_NESTING, metricsAddress, milliseconds, nestedDeeper,
  oneOf, readyMode, rlimits, seconds, signal, size, text,
} from './parse.js';
import { formatReady } from './readiness.js';
import { formatRewrites, rewrites } from './rewrite.js';
import type { LogEvents, LogFormat, LogLevel, Options, ReloadMode, RestartPolicy } from './types.js';

/** The headings of `angel --help`, in order. */
const GROUPS = ['Memory cap', 'Limits', 'Restarts', 'Signals', 'Sockets and readiness', 'Identity and environment', 'Logs', 'Monitoring'] as const;
type Group = (typeof GROUPS)[number];

interface Row<K extends string, T> {
  readonly key: K;
  readonly flag: `--${string}`;
  /** The value's placeholder (`<size>`); none for a switch. */
  readonly value?: `<${string}>`;
  readonly group: Group;
  readonly help: string;
  readonly parse: (value: unknown, name: string) => T;
  /** The value when the option is not given. */
  readonly initial: T;
  /** The flag may be given again and again; its values are collected into a list. */
  readonly repeatable?: boolean;
  /** How a value reads to a person, in help and in `angel check`, when JSON would not say it (a mode in octal). */
  readonly show?: (value: T) => unknown;
  /** The default as help text, where the value alone would not say it. */
  readonly initialText?: string;
  /** A duration's unit when it is given as a bare number (help says it after the default). */
  readonly unit?: 'ms' | 's';
  /** The words its value may be, or begin with, offered by shell completion (face/completion.ts). */
  readonly choices?: readonly string[];
  /** Set once at start: a config re-read on SIGHUP may not change it (the sockets are bound, the log file
   * open, the identity decided); angel must be restarted for that. */
  readonly fixed?: boolean;
}

/** An option with a default. */
const row = <K extends string, T>(spec: Omit<Row<K, T>, 'initial'> & { initial: NoInfer<T> }): Row<K, T> => spec;
/** An option without one: null when not given. */
const optional = <K extends string, T>(spec: Omit<Row<K, T>, 'initial' | 'show'>): Row<K, T | null> => ({ ...spec, initial: null });
const ms = (min: number) => (value: unknown, name: string): number => milliseconds(value, name, min);
const secs = (min: number) => (value: unknown, name: string): number => seconds(value, name, min);
const whole = (min: number, max = Number.MAX_SAFE_INTEGER) => (value: unknown, name: string): number => {
  const number = count(value, name, min);
  if (number > max) throw new UsageError(name, value, `expected a whole number from ${min} to ${max}`);
  return number;
};
const choice = <T extends string>(allowed: readonly T[]) => (value: unknown, name: string): T => oneOf(value, name, allowed);
const octal = (mode: number): string => `0${mode.toString(8)}`;

const RESTART_POLICIES: readonly RestartPolicy[] = ['on-failure', 'always', 'never'];
const RELOAD_MODES: readonly ReloadMode[] = ['restart', 'signal'];
const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];
const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const LOG_EVENTS: readonly LogEvents[] = ['stderr', 'file', 'both'];
/** Each rotation renames every kept file: a bound keeps a typo from costing a million renames a rotation. */
const MAX_LOG_KEEP = 1000;

export const OPTIONS = [
  row<'maxMem', MemoryCap | null>({ key: 'maxMem', flag: '--max-mem', value: '<size|N%>', group: 'Memory cap', help: 'cap on the resident memory of the child\'s whole process tree (its cgroup\'s working set with --cgroup), or N% of the memory limit of angel\'s cgroup; overrun: stop, restart', parse: memoryCap, initial: null, show: showCap }),
  row({ key: 'cgroup', flag: '--cgroup', group: 'Memory cap', help: 'each generation in a cgroup of its own under angel\'s: the kernel\'s working set, overrun by event, the 1.5x ceiling and OOM kills by the kernel, the whole cgroup killed at its end', parse: flag, initial: false, fixed: true }),
  row({ key: 'sampleInterval', flag: '--sample-interval', value: '<duration>', group: 'Memory cap', help: 'how often the tree\'s memory is sampled', parse: ms(1), initial: 100, unit: 'ms' }),
  row({ key: 'overrunSamples', flag: '--overrun-samples', value: '<n>', group: 'Memory cap', help: 'consecutive samples over the cap that make an overrun (start-up spikes pass)', parse: whole(1), initial: 1 }),
  optional({ key: 'maxVmem', flag: '--max-vmem', value: '<size>', group: 'Limits', help: 'RLIMIT_AS (soft = hard) before exec: a backstop, it counts address space', parse: size }),
  optional({ key: 'maxFds', flag: '--max-fds', value: '<n>', group: 'Limits', help: 'RLIMIT_NOFILE (soft = hard) before exec', parse: whole(1) }),
  row({ key: 'rlimits', flag: '--rlimit', value: '<name=soft[:hard]>', group: 'Limits', help: 'any rlimit before exec (core, cpu, nproc, stack, …), repeatable', parse: rlimits, initial: {}, repeatable: true }),
  row({ key: 'restart', flag: '--restart', value: '<policy>', group: 'Restarts', help: 'on-failure | always | never', parse: choice(RESTART_POLICIES), initial: 'on-failure', choices: RESTART_POLICIES }),
  row({ key: 'maxRestarts', flag: '--max-restarts', value: '<n>', group: 'Restarts', help: 'more quick deaths (under --min-uptime) than n within the window: give up', parse: whole(0), initial: 10 }),
  row({ key: 'restartWindow', flag: '--restart-window', value: '<duration>', group: 'Restarts', help: 'the crash-loop window: seconds, or with units (10m)', parse: secs(1), initial: 60, unit: 's' }),
  row({ key: 'minUptime', flag: '--min-uptime', value: '<duration>', group: 'Restarts', help: 'a child ready at least this long did not crash-loop: it restarts at once, resets the backoff and is not counted', parse: ms(0), initial: 1000, unit: 'ms' }),
  row({ key: 'restartDelay', flag: '--restart-delay', value: '<duration>', group: 'Restarts', help: 'a fixed delay before every restart (the backoff wins when larger)', parse: ms(0), initial: 0, unit: 'ms' }),
  row({ key: 'maxRestartDelay', flag: '--max-restart-delay', value: '<duration>', group: 'Restarts', help: 'the longest backoff between restarts (0: always at once)', parse: ms(0), initial: 10_000, unit: 'ms' }),
  row({ key: 'killTimeout', flag: '--kill-timeout', value: '<duration>', group: 'Signals', help: 'grace between the stop signal and SIGKILL', parse: ms(0), initial: 5000, unit: 'ms' }),
  row({ key: 'stopSignal', flag: '--stop-signal', value: '<sig>', group: 'Signals', help: 'the signal angel sends to stop the child (overrun, reload)', parse: signal, initial: 'SIGTERM' }),
  row({ key: 'parentDeathSignal', flag: '--parent-death-signal', value: '<sig>', group: 'Signals', help: 'what the child gets if angel itself dies (PR_SET_PDEATHSIG), so it is never left unsupervised', parse: signal, initial: 'SIGKILL' }),
  row({ key: 'rewrite', flag: '--rewrite', value: '<from:to>', group: 'Signals', help: 'a signal angel receives reaches the child as another (SIGTERM:SIGINT), forwarded or as a shutdown; repeatable', parse: rewrites, initial: {}, repeatable: true, show: formatRewrites }),
  row({ key: 'reload', flag: '--reload', value: '<mode>', group: 'Signals', help: 'what SIGHUP does: restart | signal (forward it)', parse: choice(RELOAD_MODES), initial: 'restart', choices: RELOAD_MODES }),
  row({ key: 'listen', flag: '--listen', value: '<addr>', group: 'Sockets and readiness', help: '[name=][host:]port, [::1]:port or unix:/path, bound by angel, passed as fds 3, 4, … (LISTEN_FDS); a port alone is IPv4 and IPv6; repeatable', parse: listenSpecs, initial: [], repeatable: true, fixed: true, show: (specs) => specs.map((spec) => spec.text) }),
  row({ key: 'socketMode', flag: '--socket-mode', value: '<mode>', group: 'Sockets and readiness', help: 'mode of the unix sockets angel creates', parse: fileMode, initial: 0o666, fixed: true, show: octal }),
  row({ key: 'ready', flag: '--ready', value: '<mode>', group: 'Sockets and readiness', help: 'when a child counts as started: exec | fd | notify | tcp:PORT | delay:MS', parse: readyMode, initial: { kind: 'exec' }, show: formatReady, choices: ['exec', 'fd', 'notify', 'tcp:', 'delay:'] }),
  row({ key: 'readyTimeout', flag: '--ready-timeout', value: '<duration>', group: 'Sockets and readiness', help: 'a child not ready by then is killed and counts as failed to start', parse: ms(1), initial: 30_000, unit: 'ms' }),
  optional({ key: 'user', flag: '--user', value: '<user>', group: 'Identity and environment', help: 'the child runs as this user (name or uid), with its groups; angel stays root', parse: identity, fixed: true }),
  optional({ key: 'group', flag: '--group', value: '<group>', group: 'Identity and environment', help: 'the child runs with this group', parse: identity, fixed: true }),
  optional({ key: 'cwd', flag: '--cwd', value: '<dir>', group: 'Identity and environment', help: 'the child\'s working directory', parse: text }),
  row({ key: 'env', flag: '--env', value: '<K=V>', group: 'Identity and environment', help: 'extra environment for the child, repeatable', parse: environment, initial: {}, repeatable: true }),
  row({ key: 'envFile', flag: '--env-file', value: '<file>', group: 'Identity and environment', help: 'variables for the child from a dotenv file (as Node\'s util.parseEnv reads it), repeatable, later files winning and --env over all; -FILE: skipped when missing; read again on SIGHUP', parse: envFiles, initial: [], repeatable: true, show: (specs) => specs.map((spec) => spec.text) }),
  row({ key: 'clearEnv', flag: '--clear-env', group: 'Identity and environment', help: 'the child gets only PATH, --env and angel\'s own variables', parse: flag, initial: false }),
  optional({ key: 'logFile', flag: '--log-file', value: '<path>', group: 'Logs', help: 'the child\'s stdout and stderr, appended here by angel; reopened on SIGUSR1', parse: text, fixed: true }),
  row({ key: 'logTimestamps', flag: '--log-timestamps', group: 'Logs', help: 'each line in --log-file starts with the time angel read it: ISO 8601 with milliseconds, in UTC', parse: flag, initial: false, fixed: true }),
  row({ key: 'logStreamTag', flag: '--log-stream-tag', group: 'Logs', help: 'each line in --log-file says whose it is: out, err (a pipe each), or angel (an event, with --log-events)', parse: flag, initial: false, fixed: true }),
  optional({ key: 'logMaxSize', flag: '--log-max-size', value: '<size>', group: 'Logs', help: '--log-file is renamed to FILE.1 (FILE.1 to FILE.2, …) before it would pass this size, and a fresh one started; no line is split', parse: size, fixed: true }),
  row({ key: 'logKeep', flag: '--log-keep', value: '<n>', group: 'Logs', help: 'how many rotated files --log-max-size keeps; the oldest beyond is removed', parse: whole(1, MAX_LOG_KEEP), initial: 5, fixed: true }),
  row({ key: 'logEvents', flag: '--log-events', value: '<where>', group: 'Logs', help: 'where angel\'s own events go: stderr | file (--log-file, a line each among the child\'s) | both', parse: choice(LOG_EVENTS), initial: 'stderr', fixed: true, choices: LOG_EVENTS }),
  optional({ key: 'terminationLog', flag: '--termination-log', value: '<path>', group: 'Logs', help: 'a summary of how angel ended (status, the last generation\'s reason, cap, peak, restarts) written here at exit, where Kubernetes reads it', parse: text, fixed: true, initialText: '/dev/termination-log where it exists' }),
  optional({ key: 'logFormat', flag: '--log-format', value: '<format>', group: 'Logs', help: 'angel\'s own events: json | pretty, for every destination', parse: choice(LOG_FORMATS), fixed: true, initialText: 'pretty on a terminal, else json', choices: LOG_FORMATS }),
  row({ key: 'logLevel', flag: '--log-level', value: '<level>', group: 'Logs', help: 'trace | debug | info | warn | error | silent', parse: choice(LOG_LEVELS), initial: 'info', fixed: true, choices: LOG_LEVELS }),
  optional({ key: 'watchdog', flag: '--watchdog', value: '<duration>', group: 'Monitoring', help: 'the child must send WATCHDOG=1 to $NOTIFY_SOCKET within this period (it gets WATCHDOG_USEC); a miss stops and restarts it', parse: ms(1), unit: 'ms' }),
  row<'metrics', ListenSpec | null>({ key: 'metrics', flag: '--metrics', value: '<addr>', group: 'Monitoring', help: 'Prometheus text on http://ADDR/metrics: [host:]port (host 127.0.0.1 unless given) or unix:/path', parse: metricsAddress, initial: null, fixed: true, show: (spec) => spec?.text ?? null }),
] as const;

type OptionRow = (typeof OPTIONS)[number];
export type OptionKey = OptionRow['key'];

/** Options with every value parsed and every default filled in; `rlimits` has --max-vmem and --max-fds folded in. */
export type ResolvedOptions = { program: string; args: string[] } & {
  -readonly [R in OptionRow as R['key']]: R['initial'];
};

/** The public Options type and the table must name the same keys (the compiler checks both ways). */
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const SAME_KEYS: Exact<keyof Options, OptionKey | 'program' | 'args'> = true;
void SAME_KEYS;

const ROWS: ReadonlyMap<string, Row<string, unknown>> = new Map(OPTIONS.map((option) => [option.key, option as unknown as Row<string, unknown>]));

/** How angel is called, for the message that says a program is missing. */
const USAGE = 'angel [options] -- <program> [args...]';

/** Each key's name in messages: its flag, or the positional it is. */
export const FLAGS: Readonly<Record<keyof Options, string>> = {
  program: '<program>',
  args: '[args...]',
  ...(Object.fromEntries(OPTIONS.map((option) => [option.key, option.flag])) as Record<OptionKey, string>),
};

/** The defaults of the options that have one. */
export const DEFAULTS = Object.fromEntries(
  OPTIONS.filter((option) => option.initial !== null && typeof option.initial !== 'object' && typeof option.initial !== 'boolean')
    .map((option) => [option.key, option.initial]),
) as Readonly<Record<string, string | number>>;

export function isOptionKey(key: string): key is keyof Options {
  return key === 'program' || key === 'args' || ROWS.has(key);
}

/** Where each value came from, so an error names the flag (`--max-mem`) or the file's key (`angel.json: maxMem`);
 * and which of the env variables the config file gave (they are the admin's word when angel is root for
 * another user, whose own are held to an allowlist). */
export type Origins = Partial<Record<keyof Options, string>> & { envFromFile?: readonly string[] };

/** Where each resolved value came from, for the checks against the system made later (launch, log file). */
const ORIGINS = new WeakMap<object, Origins>();

/** A key's name in a message about these options: the config file's key where the value came from, its flag
 * otherwise (`angel.json: user`, `--user`). */
export function nameOf(options: ResolvedOptions, key: keyof Options): string {
  return ORIGINS.get(options)?.[key] ?? FLAGS[key];
}

/** Whether the config file gave this key (a flag would have replaced it). */
export function fromConfigFile(options: ResolvedOptions, key: keyof Options): boolean {
  return ORIGINS.get(options)?.[key] !== undefined;
}

/** The env variables of these options that the config file gave (none without one). */
export function envFromFile(options: ResolvedOptions): ReadonlySet<string> {
  return new Set(ORIGINS.get(options)?.envFromFile ?? []);
}

/** Parses and checks every option; an error names the flag or the config file's key. */
export function resolveOptions(input: Options, origins: Origins = {}): ResolvedOptions {
  const name = (key: keyof Options): string => origins[key] ?? FLAGS[key];
  for (const [key, value] of Object.entries(input)) {
    if (!isOptionKey(key)) throw new UsageError(key, value, 'unknown option');
    if (nestedDeeper(value, MAX_NESTING)) throw new UsageError(name(key), value, `expected a value nested at most ${MAX_NESTING} levels deep`);
  }
  const args = input.args ?? [];
  if (Array.isArray(args) && args.length > MAX_ARGS) throw new UsageError(name('args'), args.length, `expected at most ${MAX_ARGS} arguments`);
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string' && !hasNul(arg))) {
    throw new UsageError(name('args'), args, 'expected a list of strings without NUL bytes');
  }
  if (input.program === undefined) throw new MissingProgramError(USAGE);
  const resolved: Record<string, unknown> = { program: text(input.program, name('program')), args: [...args] };
  for (const option of OPTIONS) {
    const given = (input as unknown as Record<string, unknown>)[option.key];
    resolved[option.key] = given === undefined ? option.initial : option.parse(given, name(option.key));
  }
  const options = resolved as ResolvedOptions;
  // metrics are angel's own, never served on a socket the child holds
  const { metrics } = options;
  if (metrics && options.listen.some((spec) => sameSocket(spec, metrics))) throw new UsageError(name('metrics'), metrics.text, 'expected an address that is not one of the --listen sockets');
  refuseWithoutLogFile(options, input, name);
  const result = { ...options, rlimits: foldLimits(options) };
  ORIGINS.set(result, origins);
  return result;
}

/** What shapes the lines of --log-file needs one: without it the child writes to angel's own stdout and stderr
 * itself, through no pipe of angel's, and whatever reads those (journald, a container runtime) stamps and tags
 * each line. An error shows the value as given. */
function refuseWithoutLogFile(options: ResolvedOptions, input: Options, name: (key: keyof Options) => string): void {
  if (options.logFile !== null) return;
  const needing: Array<[keyof Options, boolean]> = [
    ['logTimestamps', options.logTimestamps], ['logStreamTag', options.logStreamTag], ['logMaxSize', options.logMaxSize !== null],
    ['logEvents', options.logEvents !== 'stderr'],
  ];
  for (const [key, asked] of needing) {
    if (asked) throw new UsageError(name(key), input[key], `expected with ${name('logFile')} (without it the child writes to angel's stdout and stderr itself)`);
  }
}

/** --max-vmem and --max-fds are rlimits by other names: the child gets them with the rest. */
function foldLimits(options: ResolvedOptions): Rlimits {
  const limits: Rlimits = { ...options.rlimits };
  if (options.maxVmem !== null) limits.as = { soft: options.maxVmem, hard: options.maxVmem };
  if (options.maxFds !== null) limits.nofile = { soft: options.maxFds, hard: options.maxFds };
  return limits;
}

/** The resolved options as a person reads them (`angel check`): modes in octal, addresses and modes as text. */
export function showOptions(options: ResolvedOptions): Record<string, unknown> {
  const shown: Record<string, unknown> = { ...options };
  for (const option of OPTIONS) {
    const show = (option as unknown as Row<string, unknown>).show;
    if (show) shown[option.key] = show((options as Record<string, unknown>)[option.key]);
  }
  return shown;
}

/** The first option fixed at start (Row.fixed) whose value differs between two resolutions, or null. */
export function changedFixedOption(before: ResolvedOptions, after: ResolvedOptions): OptionKey | null {
  for (const option of OPTIONS) {
    if (!(option as unknown as Row<string, unknown>).fixed) continue;
    const [a, b] = [before, after].map((options) => JSON.stringify((options as Record<string, unknown>)[option.key]));
    if (a !== b) return option.key;
  }
  return null;
}
