// `angel status <pid> [--json]` and `angel status --metrics <addr> [--json]`: a summary of a running angel.
// By pid it connects to the control socket that process listens on, as /proc tells it (kernel/runtime.ts); by address it scrapes /metrics and reads them with the strict exposition parser. What
// answers may be no angel at all: each read has one deadline for the whole answer and a bound on its size,
// and a bad answer is one line of error.
import { request } from 'node:http';
import { connect } from 'node:net';
import { parseMetrics } from '../core/addresses.js';
import { oneLine, printableJson, StatusError, UsageError } from '../core/errors.js';
import { parseExposition } from '../core/exposition.js';
import { formatStatus, parseReport, statusFromMetrics, type StatusReport } from '../core/status.js';
import { controlSocketOf, processOwner } from '../driver/outside.js';

/** The whole answer, from the connect to its last byte: a server that drips a byte a second is cut off here. */
const DEADLINE_MS = 5000;
/** A report is a few hundred bytes, a scrape a few dozen KiB: more is no angel's. */
const MAX_REPORT_BYTES = 64 * 1024;
const MAX_SCRAPE_BYTES = 4 * 1024 * 1024;

/** Collects a stream's bytes up to `max`, within the deadline; `end` and `fail` settle it once. */
function bounded(max: number, what: string, destroy: (error: Error) => void): { take(chunk: Buffer): void; text(): string; timer: NodeJS.Timeout } {
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => destroy(Object.assign(new Error(`no whole answer within ${DEADLINE_MS / 1000} s`), { code: 'ETIMEDOUT' })), DEADLINE_MS);
  return {
    take(chunk) {
      size += chunk.length;
      if (size > max) destroy(new Error(`${what} longer than ${max} bytes`));
      else chunks.push(chunk);
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
    timer,
  };
}

function readControlSocket(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const answer = bounded(MAX_REPORT_BYTES, 'an answer', (error) => socket.destroy(error));
    socket.on('data', (chunk: Buffer) => answer.take(chunk));
    socket.on('end', () => {
      clearTimeout(answer.timer);
      resolve(answer.text());
    });
    socket.on('error', (error) => {
      clearTimeout(answer.timer);
      reject(error);
    });
  });
}

const why = (error: unknown): string => oneLine((error as NodeJS.ErrnoException).code ?? (error as Error).message);

async function byPid(pid: number): Promise<StatusReport> {
  if (processOwner(pid) === null) throw new StatusError(`no process ${pid}`);
  let path: string;
  try {
    path = controlSocketOf(pid);
  } catch (error) {
    throw new StatusError(`pid ${pid} is no angel this user can reach (${why(error)})`);
  }
  let text: string;
  try {
    text = await readControlSocket(path);
  } catch (error) {
    throw new StatusError(`pid ${pid} is no angel this user can reach (${path}: ${why(error)})`);
  }
  try {
    return parseReport(text);
  } catch (error) {
    throw new StatusError(`${path}: ${oneLine((error as Error).message)}`);
  }
}

function scrape(address: string): Promise<string> {
  const spec = parseMetrics(address, '--metrics');
  const target = spec.kind === 'unix' ? { socketPath: spec.path } : { host: spec.address, port: spec.port };
  return new Promise((resolve, reject) => {
    const req = request({ ...target, path: '/metrics' }, (response) => {
      response.on('data', (chunk: Buffer) => body.take(chunk));
      response.on('end', () => {
        clearTimeout(body.timer);
        if (response.statusCode === 200) resolve(body.text());
        else reject(new Error(`HTTP ${response.statusCode}`));
      });
      response.on('error', reject);
    });
    const body = bounded(MAX_SCRAPE_BYTES, 'the metrics', (error) => req.destroy(error));
    req.on('error', (error) => {
      clearTimeout(body.timer);
      reject(error);
    });
    req.end();
  });
}

async function byMetrics(address: string): Promise<StatusReport> {
  let text: string;
  try {
    text = await scrape(address);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new StatusError(`${address}/metrics: ${why(error)}`);
  }
  try {
    return statusFromMetrics(parseExposition(text));
  } catch (error) {
    throw new StatusError(`${address}/metrics: ${oneLine((error as Error).message)}`);
  }
}

/** Prints the summary (or the report as JSON); throws UsageError (2) or StatusError (1). */
export async function status(target: string | undefined, flags: { metrics?: string; json?: boolean }): Promise<number> {
  if ((target === undefined) === (flags.metrics === undefined)) throw new UsageError('status', target ?? null, 'expected a pid or --metrics <addr>, one of the two');
  if (target !== undefined && !/^[1-9]\d{0,9}$/.test(target)) throw new UsageError('status', target, 'expected the pid of an angel');
  const report = target === undefined ? await byMetrics(flags.metrics as string) : await byPid(Number(target));
  process.stdout.write(flags.json ? `${printableJson(report, 2)}\n` : formatStatus(report, Date.now()));
  return 0;
}
