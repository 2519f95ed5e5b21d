// The public types: what a caller passes to supervise() and the typed events it gets back.
import type { Rlimit, RlimitName } from './limits.js';
import type { CapSource } from './memory.js';

/** A size: bytes, or a string with a binary suffix (`512M`, `1.5G`, `64KiB`). */
export type Size = number | string;
export type RestartPolicy = 'on-failure' | 'always' | 'never';
export type ReloadMode = 'restart' | 'signal';
export type LogFormat = 'json' | 'pretty';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
/** Where angel's own events go: stderr, the log file (among the child's lines), or both. */
export type LogEvents = 'stderr' | 'file' | 'both';

/** What a caller (the CLI, or a tool that offers its own --max-mem) asks for. Keys match the config file's. */
export interface Options {
  program: string;
  args?: readonly string[];
  /** Cap on the child's memory; overrun stops and restarts it. A size caps the resident memory summed over its
   * process tree (or its cgroup's working set with `cgroup`); `'80%'` is a share of the memory limit of the
   * cgroup angel runs in. */
  maxMem?: Size;
  /** RLIMIT_AS (soft = hard) in the child before exec: a backstop, since it counts address space, not memory. */
  maxVmem?: Size;
  /** RLIMIT_NOFILE (soft = hard) in the child before exec. */
  maxFds?: number | string;
  /** Any rlimit: `{ core: 0 }`, `{ nofile: { soft: 1024, hard: 4096 } }`, or specs `['core=unlimited']`. */
  rlimits?: Partial<Record<RlimitName, Rlimit | number | string>> | readonly string[];
  /** RSS sampling period in ms (default 100). */
  sampleInterval?: number | string;
  /** Consecutive samples over the cap that make an overrun (default 1). */
  overrunSamples?: number | string;
  restart?: RestartPolicy;
  /** More restarts than this within restartWindow seconds: give up (default 10 in 60). */
  maxRestarts?: number | string;
  restartWindow?: number | string;
  /** A child ready at least this many ms did not crash-loop: it restarts at once and resets the backoff (default 1000). */
  minUptime?: number | string;
  /** A fixed delay in ms before every restart (default 0); the backoff wins when larger. */
  restartDelay?: number | string;
  /** The longest backoff between restarts in ms (default 10000; 0 restarts at once, always). */
  maxRestartDelay?: number | string;
  /** Grace between the stop signal and SIGKILL, in ms (default 5000). */
  killTimeout?: number | string;
  /** The signal angel sends when it decides to stop the child (overrun, reload). Default SIGTERM. */
  stopSignal?: NodeJS.Signals | number | string;
  /** The signal the child gets if angel itself dies (PR_SET_PDEATHSIG); default SIGKILL. */
  parentDeathSignal?: NodeJS.Signals | number | string;
  /** Signals angel receives, delivered to the child as others (dumb-init's --rewrite): `['SIGTERM:SIGINT']` or
   * `{ SIGTERM: 'SIGINT' }`. Applies to forwarded and shutdown signals. */
  rewrite?: Readonly<Record<string, string>> | readonly string[] | string;
  /** What reload() (SIGHUP) does: a graceful restart, or forwarding SIGHUP to the child. */
  reload?: ReloadMode;
  /** Run the child as this user (name or uid), with that user's supplementary groups. */
  user?: string | number;
  group?: string | number;
  cwd?: string;
  /** The child gets only PATH, `env` and angel's own variables, not angel's whole environment. */
  clearEnv?: boolean;
  /** Extra environment: `{ K: 'V' }` or `['K=V']`. */
  env?: Readonly<Record<string, string>> | readonly string[];
  /** dotenv files of variables for the child (the format Node's util.parseEnv reads), read at every start and
   * reload, later files winning and `env` over all; a path starting with `-` is skipped when missing. */
  envFile?: readonly string[] | string;
  /** Sockets bound by angel and passed to every generation: `[name=][host:]port`, `[::1]:port`, `unix:/path`. */
  listen?: readonly string[] | string;
  /** Each generation in a cgroup of its own under angel's: the kernel's working set, event-driven overrun, the
   * 1.5x ceiling enforced by the kernel, `oom` exits, and the whole cgroup killed at the generation's end. */
  cgroup?: boolean;
  /** The mode of unix sockets angel creates (octal string or number; default 0o666). */
  socketMode?: number | string;
  /** When a child counts as started: `exec`, `fd`, `notify`, `tcp:PORT`, `delay:MS` (default exec). */
  ready?: string;
  /** A child not ready within this many ms counts as failed to start (default 30000). */
  readyTimeout?: number | string;
  /** The child's stdout and stderr, through a pipe angel owns, appended to this file; reopened on SIGUSR1. */
  logFile?: string;
  /** Each line in logFile starts with the time angel read it: ISO 8601 with milliseconds, in UTC. */
  logTimestamps?: boolean;
  /** Each line in logFile says its stream after the time: `out`, `err`, or `angel` for an event (stdout and
   * stderr then go through a pipe each: the order of lines is kept within a stream, not across the two). */
  logStreamTag?: boolean;
  /** logFile is renamed to FILE.1 (and FILE.1 to FILE.2, …) before it would pass this size, and a fresh one
   * started; a line is never split between files. */
  logMaxSize?: Size;
  /** How many rotated files logMaxSize keeps (default 5); the oldest beyond that is removed. */
  logKeep?: number | string;
  /** Where the CLI's event log goes: stderr (default), `file` (logFile, a line each among the child's), or
   * `both`. */
  logEvents?: LogEvents;
  /** A summary of how angel ended, written here at exit (default: /dev/termination-log where it exists, as
   * Kubernetes makes it; the library writes one only where this is given). */
  terminationLog?: string;
  logFormat?: LogFormat;
  logLevel?: LogLevel;
  /** The child must send WATCHDOG=1 to its NOTIFY_SOCKET within this many ms; a miss stops and restarts it. */
  watchdog?: number | string;
  /** Prometheus text on /metrics at `[host:]port` (127.0.0.1 unless a host is given) or `unix:/path`. */
  metrics?: string;
}

export type State = 'idle' | 'starting' | 'running' | 'reloading' | 'stopping' | 'backoff' | 'stopped';

/** Why a child ended: on its own (exit 0 or failure), because angel stopped it (an overrun, a missed watchdog, a
 * reload, a shutdown), or because the kernel's OOM killer killed a process of its cgroup (`oom`, with --cgroup). */
export type ExitReason = 'exit' | 'crash' | 'overrun' | 'oom' | 'watchdog' | 'reload' | 'shutdown';

export interface StartEvent {
  pid: number;
  generation: number;
  /** Which launch (config) it runs: 0 for angel's start, one more for each reload that took a new one, so a
   * SIGHUP during a reload is seen to land. */
  revision: number;
  /** From the spawn call to the child's execve, on angel's clock as the child read it just before the call: the
   * spawn's own cost, never counting a wait of angel's for a CPU once the program runs. */
  spawnMs: number;
  /** The memory cap in bytes (a --max-mem percentage resolved against the cgroup's limit), when there is one. */
  capBytes?: number;
}
export interface ReadyEvent {
  pid: number;
  generation: number;
  /** From the spawn call to the child counting as started. */
  startLatencyMs: number;
}
export interface ExitEvent {
  pid: number;
  generation: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  coreDumped: boolean;
  reason: ExitReason;
  uptimeMs: number;
  /** The highest tree RSS sampled during this generation; null when nothing was sampled (no --max-mem). */
  peakRssBytes: number | null;
}
export interface OverrunEvent {
  pid: number;
  generation: number;
  rssBytes: number;
  capBytes: number;
  /** True when the tree passed 1.5x the cap during the grace period and was SIGKILLed at once. */
  hardKill?: boolean;
}
export interface RestartEvent {
  generation: number;
  /** Why it was restarted: how the generation it replaces ended, or is ending ('reload' for an overlapping reload). */
  reason: ExitReason;
  /** The backoff delay that was waited. */
  delayMs: number;
  /** angel's clock: from its exit callback (the old child's death read from its pidfd) to the new child's exec
   * confirmed (its readiness with a `ready` other than exec), not counting delayMs; 0 for an overlapping reload. */
  restartLatencyMs: number;
}
/** The child missed its watchdog period (or sent WATCHDOG=trigger): it is stopped and restarted (reason
 * `watchdog`). */
export interface WatchdogEvent {
  pid: number;
  generation: number;
  /** The period it missed, in ms. */
  periodMs: number | null;
  /** It asked for this itself (WATCHDOG=trigger). */
  triggered?: boolean;
}
/** A message the child sent to its NOTIFY_SOCKET (sd_notify), as far as angel acts on it. */
export interface NotifyEvent {
  pid: number;
  generation: number;
  ready: boolean;
  reloading: boolean;
  stopping: boolean;
  watchdog: 'ping' | 'trigger' | null;
  /** STATUS= text, when the message had one. */
  status: string | null;
}
/** An N% cap moved with the limit it is a share of (a container resized in place, read at a reload or within a
 * second while sampling); the new cap is judged from the next sample. */
export interface CapEvent {
  capBytes: number;
  previousBytes: number;
  /** What it is a share of: the cgroup's limit, or the machine's memory where none is set. */
  ofBytes: number | null;
  source: CapSource;
}
/** angel listens for someone (--metrics): where, once bound. */
export interface ListeningEvent {
  what: 'metrics';
  /** host:port as bound (the port chosen when 0 was asked for), or unix:/path. */
  address: string;
}
export interface GiveupEvent {
  restarts: number;
  windowSeconds: number;
  status: number;
}
export interface ShutdownEvent {
  /** What asked for it: a signal name, or 'stop' from the API. */
  cause: string;
  status: number;
}
export interface SampleEvent {
  pid: number;
  rssBytes: number;
  processes: number;
}
export interface StateEvent {
  from: State;
  to: State;
  trigger: string;
}
export interface WarningEvent {
  message: string;
  /** The errno name, when the warning is about a failing call (ENOSPC). */
  code?: string;
  /** --log-file: the lines dropped since writes started failing. */
  droppedLines?: number;
}
/** The program could not be started (not found: 127, not executable or refused: 126). */
export interface SpawnErrorEvent {
  error: Error & { code: string };
  status: number;
}

/** The typed event map of an Angel. */
export interface AngelEvents {
  start: [StartEvent];
  ready: [ReadyEvent];
  exit: [ExitEvent];
  overrun: [OverrunEvent];
  cap: [CapEvent];
  watchdog: [WatchdogEvent];
  notify: [NotifyEvent];
  listening: [ListeningEvent];
  restart: [RestartEvent];
  giveup: [GiveupEvent];
  shutdown: [ShutdownEvent];
  sample: [SampleEvent];
  state: [StateEvent];
  warning: [WarningEvent];
  'spawn-error': [SpawnErrorEvent];
}

/** angel's exit status: the child's code, 128 + its signal, 2 on usage errors, 126/127 when it cannot run. */
export type ExitStatus = number;
