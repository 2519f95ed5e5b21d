// angel's own events through pino: NDJSON on stderr (one `event` field each, the public schema of
// DESIGN.md), or pino-pretty for humans. Written synchronously, so nothing is lost at exit.
import type { Logger } from 'pino';
import type { Supervisor } from './supervisor.js';
import type { LogFormat, LogLevel } from './types.js';

export type EventLog = Logger;

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export async function createEventLog(format: LogFormat, level: LogLevel): Promise<EventLog> {
  const options = {
    level,
    base: null, // the events carry the child's pid; angel's own would be ambiguous
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const { pino } = await import('pino');
  if (format === 'json') return pino(options, pino.destination({ fd: 2, sync: true }));
  // loaded only when wanted: it costs start-up time the json path does not need
  const { default: pretty } = await import('pino-pretty');
  return pino(options, pretty({ destination: 2, sync: true, colorize: Boolean(process.stderr.isTTY), hideObject: true }));
}

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** Writes to the logger once it is loaded; until then lines wait in order, so the child can be started
 * before pino has been imported (launch-to-start latency is one of angel's targets). */
function deferredWriter(pending: Promise<EventLog>): (level: Level, fields: object, message: string) => void {
  let log: EventLog | null = null;
  const queue: Array<[Level, object, string]> = [];
  void pending.then((ready) => {
    log = ready;
    for (const [level, fields, message] of queue.splice(0)) ready[level](fields, message);
  });
  return (level, fields, message) => {
    if (log) log[level](fields, message);
    else queue.push([level, fields, message]);
  };
}

export function attachEventLog(supervisor: Supervisor, pending: Promise<EventLog>): void {
  const write = deferredWriter(pending);
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
  supervisor.on('restart', (e) =>
    log.info({ event: 'restart', ...e }, `restart generation ${e.generation} after ${e.delayMs} ms delay (+${e.restartLatencyMs.toFixed(2)} ms)`),
  );
  supervisor.on('giveup', (e) =>
    log.error({ event: 'giveup', ...e }, `giving up: ${e.restarts} restarts within ${e.windowSeconds} s`),
  );
  supervisor.on('shutdown', (e) => log.info({ event: 'shutdown', ...e }, `shutdown (${e.cause}), exit status ${e.status}`));
  supervisor.on('spawn-error', (e) =>
    log.error({ event: 'spawn-error', code: e.error.code, status: e.status }, e.error.message),
  );
  supervisor.on('warning', (e) => log.warn({ event: 'warning', ...e }, e.message));
  supervisor.on('state', (e) => log.debug({ event: 'state', ...e }, `${e.from} -> ${e.to} on ${e.trigger}`));
  supervisor.on('sample', (e) => log.trace({ event: 'sample', ...e }, `tree ${mib(e.rssBytes)} in ${e.processes} processes`));
}
