// `angel status <pid> [--json]` and `angel status --metrics <addr> [--json]`: a summary of a running angel.
// By pid it connects to that angel's control socket, looked for where an angel of the pid's owner keeps it
// (kernel/runtime.ts); by address it scrapes /metrics and reads them with the strict exposition parser.
import { request } from 'node:http';
import { connect } from 'node:net';
import { parseMetrics } from '../core/addresses.js';
import { StatusError, UsageError } from '../core/errors.js';
import { parseExposition } from '../core/exposition.js';
import { formatStatus, statusFromMetrics, type StatusReport } from '../core/status.js';
import { processOwner, runtimeCandidates } from '../kernel/runtime.js';
import { controlPath } from './control.js';

const TIMEOUT_MS = 5000;

/** An angel that cannot be reached or read: exit status 1, one line. */

function readControlSocket(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let text = '';
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    socket.on('data', (chunk) => (text += chunk.toString('utf8')));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

async function byPid(pid: number): Promise<StatusReport> {
  const tried: string[] = [];
  const owner = processOwner(pid);
  if (owner === null) throw new StatusError(`no process ${pid}`);
  for (const directory of runtimeCandidates(owner)) {
    const path = controlPath(directory, pid);
    try {
      return JSON.parse(await readControlSocket(path)) as StatusReport;
    } catch (error) {
      tried.push(`${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  throw new StatusError(`pid ${pid} is no angel this user can reach (${tried.join('; ')})`);
}

function scrape(address: string): Promise<string> {
  const spec = parseMetrics(address, '--metrics');
  const target = spec.kind === 'unix' ? { socketPath: spec.path } : { host: spec.address, port: spec.port };
  return new Promise((resolve, reject) => {
    const req = request({ ...target, path: '/metrics', timeout: TIMEOUT_MS }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () => (response.statusCode === 200 ? resolve(text) : reject(new Error(`HTTP ${response.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function byMetrics(address: string): Promise<StatusReport> {
  let text: string;
  try {
    text = await scrape(address);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new StatusError(`${address}/metrics: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return statusFromMetrics(parseExposition(text));
  } catch (error) {
    throw new StatusError(`${address}/metrics: ${(error as Error).message}`);
  }
}

/** Prints the summary (or the report as JSON); throws UsageError (2) or StatusError (1). */
export async function status(target: string | undefined, flags: { metrics?: string; json?: boolean }): Promise<number> {
  if ((target === undefined) === (flags.metrics === undefined)) throw new UsageError('status', target ?? null, 'expected a pid or --metrics <addr>, one of the two');
  if (target !== undefined && !/^[1-9]\d{0,9}$/.test(target)) throw new UsageError('status', target, 'expected the pid of an angel');
  const report = target === undefined ? await byMetrics(flags.metrics as string) : await byPid(Number(target));
  process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report, Date.now()));
  return 0;
}
