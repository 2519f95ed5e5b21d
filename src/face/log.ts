// angel's own events through pino: NDJSON (one `event` field each: the public schema the README lists, with
// ISO 8601 times), or pino-pretty's lines for humans, to stderr and, with --log-events, into --log-file among
// the child's lines. Lines are handed to pino on the turn of the
// event loop after the event (deferredWriter), so a restart's exec never waits behind the serialization and
// write of the old child's exit line.
//
// pino formats each event once, as JSON; each destination then writes it in its own format: --log-format
// when given, whatever the destination is; otherwise pretty where it is a terminal and JSON where it is not
// (a file, a pipe to a collector).
//
// How stderr is written depends on what it is. A regular file (or /dev/null) cannot stall on a reader, so it
// is written synchronously: the asynchronous write (a threadpool thread woken per write, then the main thread
// woken again) took the CPU from a restarted child just as it started, in the crash-loop benchmark. A pipe, a
// socket or a terminal can stall (a stuck journald, a full `docker logs` pipe, Ctrl-S): there a synchronous
// write would freeze angel, overrun checks included, so the lines go out asynchronously and wait in memory
// meanwhile. EventLog.close() waits until what is left is written before angel exits.
import { fstatSync, type Stats } from 'node:fs';
import { isatty } from 'node:tty';
import type { Logger } from 'pino';
import type { Supervisor } from '../driver/supervisor.js';
import type { LineWriter } from '../driver/supervisor.js';
import { counted, oneLine } from '../core/errors.js';
import { isoTime } from '../core/loglines.js';
import type { LogFormat, LogLevel } from '../core/types.js';

export interface EventLog {
  logger: Logger;
  /** Writes, in one write per destination, the lines the logger formatted since the last flush. */
  flush(): void;
  /** Resolves once every line handed to the logger is written (or after `boundMs`, should stderr's reader
   * be stuck); call before process.exit. An asynchronous write may still be in flight, so a synchronous
   * flush here would put the lines after it ahead of it. */
  close(boundMs: number): Promise<void>;
}

/** Where the event log writes, and in what format (null: pretty on a terminal, JSON elsewhere). */
export interface EventLogTargets {
  format: LogFormat | null;
  level: LogLevel;
  stderr: boolean;
  /** The log file's writer (--log-events file or both). */
  file: LineWriter | null;
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** One of the kernel's memory devices (/dev/null, /dev/zero, …: character major 1, devices.txt), never a
 * terminal: known without node:tty, which would load node:net with it. */
const isMemoryDevice = (stat: Stats): boolean => stat.isCharacterDevice() && ((stat.rdev >> 8) & 0xfff) === 1;

/** Whether `fd` is a terminal; a file, a pipe, a socket or /dev/null is told from its fstat. */
function isTerminal(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isCharacterDevice() && !isMemoryDevice(stat) && isatty(fd);
  } catch {
    return false;
  }
}

/** Whether writes to `fd` always complete without waiting for a reader: a regular file, or a character
 * device that is not a terminal (/dev/null). */
export function cannotStall(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isFile() || (stat.isCharacterDevice() && (isMemoryDevice(stat) || !isatty(fd)));
  } catch {
    return false;
  }
}

interface Destination {
  /** The JSON line as this destination writes it. */
  format: ((line: string) => string) | null;
  write(text: string): void;
  close(boundMs: number): Promise<void>;
}

/** The lines pino formats during one drain of the deferred writer, handed to each destination as one write:
 * the four events of a restart were four write(2)s, each a sonic-boom pass, in the time the next child runs. */
class LineBatch {
  readonly #lines: string[] = [];

  constructor(readonly destinations: readonly Destination[]) {}

  write(line: string): boolean {
    this.#lines.push(line);
    return true;
  }

  flush(): void {
    if (this.#lines.length === 0) return;
    for (const { format, write } of this.destinations) write(format === null ? this.#lines.join('') : this.#lines.map(format).join(''));
    this.#lines.length = 0;
  }
}

async function stderrDestination(format: ((line: string) => string) | null): Promise<Destination> {
  const { pino } = await import('pino');
  const sync = cannotStall(2);
  // `dest`, not `fd`: pino reads process.stdout.fd when `dest` is missing, and process.stdout is node:stream and more
  const stream = pino.destination({ dest: 2, sync, minLength: 0 });
  const close = (boundMs: number): Promise<void> =>
    sync ? Promise.resolve() : new Promise((resolve) => {
      const bound = setTimeout(resolve, boundMs).unref();
      stream.once('close', () => {
        clearTimeout(bound);
        resolve();
      });
      stream.end();
    });
  return { format, write: (text) => stream.write(text), close };
}

/** pino-pretty's line for one JSON event line; loaded only when wanted: it costs start-up time JSON does not
 * need. */
async function prettifier(colorize: boolean): Promise<(line: string) => string> {
  const { prettyFactory } = await import('pino-pretty');
  // pino-pretty puts a line's `pid` in the slot after the level, where pino users read the logger's own pid:
  // an event's pid is the child's, and the message says it
  return prettyFactory({ colorize, hideObject: true, ignore: 'pid,hostname' });
}

export async function createEventLog({ format, level, stderr, file }: EventLogTargets): Promise<EventLog> {
  const { pino } = await import('pino');
  const terminal = isTerminal(2);
  const destinations: Destination[] = [];
  if (stderr) destinations.push(await stderrDestination((format ?? (terminal ? 'pretty' : 'json')) === 'pretty' ? await prettifier(terminal) : null));
  if (file) destinations.push({ format: format === 'pretty' ? await prettifier(false) : null, write: (text) => file.write(text), close: () => file.end() });
  const batch = new LineBatch(destinations);
  const logger = pino({
    level,
    base: null, // the events carry the child's pid; angel's own would be ambiguous
    formatters: { level: (label: string) => ({ level: label }) },
    // pino's isoTime, without the Date (core/loglines.ts says why)
    timestamp: () => `,"time":"${isoTime(Date.now())}"`,
  }, batch);
  const close = async (boundMs: number): Promise<void> => void (await Promise.all(destinations.map((destination) => destination.close(boundMs))));
  return { logger, flush: () => batch.flush(), close };
}

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** Lines wait in order and are written on the next turn of the event loop (and only once pino is
 * loaded): the child is started before pino is imported at launch, and a restart's exec never waits
 * behind the serialization and write of the old child's exit line. drain() writes what waits, at once. */
function deferredWriter(pending: Promise<EventLog>): { write: (level: Level, fields: object, message: string) => void; drain: () => void } {
  let log: EventLog | null = null;
  let scheduled = false;
  const queue: Array<[Level, object, string]> = [];
  const drain = (): void => {
    scheduled = false;
    if (!log) return;
    for (const [level, fields, message] of queue.splice(0)) log.logger[level](fields, message);
    log.flush();
  };
  void pending.then((eventLog) => {
    log = eventLog;
    drain();
  });
  const write = (level: Level, fields: object, message: string): void => {
    // a message can quote what a user or a child gave (a path, a STATUS=): no control character is printed
    queue.push([level, fields, oneLine(message)]);
    if (!scheduled && log) {
      scheduled = true;
      setImmediate(drain);
    }
  };
  return { write, drain };
}

/** Logs the supervisor's events; returns the function that writes out what still waits (before exit). */
export function attachEventLog(supervisor: Supervisor, pending: Promise<EventLog>, level: LogLevel = 'info'): () => void {
  const { write, drain } = deferredWriter(pending);
  const log = {
    trace: (fields: object, message: string) => write('trace', fields, message),
    debug: (fields: object, message: string) => write('debug', fields, message),
    info: (fields: object, message: string) => write('info', fields, message),
    warn: (fields: object, message: string) => write('warn', fields, message),
    error: (fields: object, message: string) => write('error', fields, message),
  };
  supervisor.on('start', (e) => log.info({ event: 'start', ...e }, `start pid ${e.pid} generation ${e.generation}`));
  supervisor.on('ready', (e) => log.info({ event: 'ready', ...e }, `ready pid ${e.pid} in ${e.startLatencyMs.toFixed(2)} ms`));
  supervisor.on('exit', (e) =>
    log.info({ event: 'exit', ...e }, `exit pid ${e.pid} ${e.signal ?? `code ${e.code}`} (${e.reason}) after ${Math.round(e.uptimeMs)} ms`),
  );
  supervisor.on('overrun', (e) =>
    log.warn({ event: 'overrun', ...e }, `overrun pid ${e.pid}: ${mib(e.rssBytes)} > cap ${mib(e.capBytes)}${e.hardKill ? ', SIGKILL' : ''}`),
  );
  supervisor.on('cap', (e) =>
    log.info({ event: 'cap', ...e }, `cap ${mib(e.capBytes)}, was ${mib(e.previousBytes)}${e.ofBytes === null ? '' : ` (the limit it is a share of is now ${mib(e.ofBytes)})`}`),
  );
  supervisor.on('watchdog', (e) =>
    log.warn({ event: 'watchdog', ...e }, `watchdog: pid ${e.pid} ${e.triggered ? 'sent WATCHDOG=trigger' : `sent no WATCHDOG=1 within ${e.periodMs} ms`}; stopping it`),
  );
  supervisor.on('restart', (e) =>
    log.info({ event: 'restart', ...e }, `restart generation ${e.generation} after ${e.delayMs} ms delay (+${e.restartLatencyMs.toFixed(2)} ms)`),
  );
  supervisor.on('giveup', (e) =>
    log.error({ event: 'giveup', ...e }, `giving up: ${counted(e.restarts, 'restart')} after quick deaths (under --min-uptime) within ${e.windowSeconds} s, status ${e.status}`),
  );
  supervisor.on('listening', (e) => log.info({ event: 'listening', ...e }, `${e.what} on ${e.address}`));
  supervisor.on('shutdown', (e) => log.info({ event: 'shutdown', ...e }, `shutdown (${e.cause}), exit status ${e.status}`));
  supervisor.on('spawn-error', (e) =>
    log.error({ event: 'spawn-error', code: e.error.code, status: e.status }, e.error.message),
  );
  supervisor.on('warning', (e) => log.warn({ event: 'warning', ...e }, e.message));
  // the chatty ones only when asked for: a sample comes 10 times a second, a watchdog ping every few
  if (level === 'debug' || level === 'trace') {
    supervisor.on('notify', (e) => {
      if (e.watchdog === 'ping' && !e.ready && !e.reloading && !e.stopping && e.status === null && level !== 'trace') return;
      log.debug({ event: 'notify', ...e }, `notify pid ${e.pid}: ${[e.ready && 'READY', e.reloading && 'RELOADING', e.stopping && 'STOPPING', e.watchdog && `WATCHDOG=${e.watchdog}`, e.status !== null && `STATUS=${e.status}`].filter(Boolean).join(' ')}`);
    });
    supervisor.on('state', (e) => log.debug({ event: 'state', ...e }, `${e.from} -> ${e.to} on ${e.trigger}`));
  }
  if (level === 'trace') {
    supervisor.on('sample', (e) => log.trace({ event: 'sample', ...e }, `tree ${mib(e.rssBytes)} in ${counted(e.processes, 'process', 'processes')}`));
  }
  return drain;
}
