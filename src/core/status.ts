// Pure: what `angel status` says about a running angel, and how a person reads it. The report comes from the
// angel's control socket as JSON, or is rebuilt from its /metrics (core/exposition.ts).
import { oneLine } from './errors.js';
import { sampleValue, type Family } from './exposition.js';
import type { ExitReason, State } from './types.js';

export interface StatusReport {
  angelPid: number;
  version: string;
  program: string;
  args: string[];
  state: State;
  /** When angel started (ms since the epoch). */
  startedAt: number;
  /** The serving generation, or the last one started (-1 before the first). */
  generation: number;
  childPid: number | null;
  /** When the serving child was started (ms since the epoch). */
  childStartedAt: number | null;
  ready: boolean;
  /** The child tree's resident memory, as --max-mem counts it; null when it could not be read. */
  rssBytes: number | null;
  capBytes: number | null;
  restarts: number;
  restartsByReason: Partial<Record<ExitReason, number>>;
  overruns: number;
  watchdogMisses: number;
  lastExit: { generation: number; reason: ExitReason; code: number | null; signal: string | null; at: number } | null;
  /** The child's last STATUS= (sd_notify), if it sent one. */
  status: string | null;
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** 3d 4h, 2h 5m, 4m 10s, 12s. */
function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60)];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/** The summary a person reads, one fact a line. Every text in it came from the angel read or its child (a
 * STATUS= can hold any byte): control characters are escaped, so none reaches the terminal as a command. */
export function formatStatus(report: StatusReport, now: number): string {
  return `${statusLines(report, now).map(oneLine).join('\n')}\n`;
}

function statusLines(report: StatusReport, now: number): string[] {
  const memory = report.rssBytes === null ? 'not read' : mib(report.rssBytes);
  const cap = report.capBytes === null ? 'no cap' : `cap ${mib(report.capBytes)} (${report.rssBytes === null ? '?' : Math.round((100 * report.rssBytes) / report.capBytes)}%)`;
  const reasons = Object.entries(report.restartsByReason).filter(([, count]) => count).map(([reason, count]) => `${reason} ${count}`).join(', ');
  const last = report.lastExit;
  const lines = [
    `angel ${report.angelPid} (${report.version}), up ${duration(now - report.startedAt)}, ${report.state}`,
    `program     ${[report.program, ...report.args].join(' ')}`,
    `generation  ${report.generation}${report.childPid === null ? ', no child running' : `, pid ${report.childPid}, ${report.ready ? 'ready' : 'not ready'}`}` +
      (report.childStartedAt === null ? '' : `, up ${duration(now - report.childStartedAt)}`),
    `memory      ${memory}, ${cap}`,
    `restarts    ${report.restarts}${reasons ? ` (${reasons})` : ''}; overruns ${report.overruns}; watchdog misses ${report.watchdogMisses}`,
    `last exit   ${last === null ? 'none' : `generation ${last.generation}, ${last.reason}, ${last.signal ?? `code ${last.code}`}, ${duration(now - last.at)} ago`}`,
  ];
  if (report.status !== null) lines.push(`status      ${report.status}`);
  return lines;
}

const STATES: readonly State[] = ['idle', 'starting', 'running', 'reloading', 'stopping', 'backoff', 'stopped'];

/** A control socket's answer as a report, checked field by field: what answers there may be no angel (or a
 * hostile one), and a bad answer is one line of error, never a TypeError later. */
export function parseReport(text: string): StatusReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('the answer is not JSON: not an angel\'s control socket');
  }
  const report = value as Record<string, unknown>;
  const wrong = (field: string): never => {
    throw new Error(`the answer's ${field} is missing or of the wrong type: not an angel's report`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) wrong('report');
  const number = (field: string, nullable = false): void => {
    const item = report[field];
    if (!(typeof item === 'number' && Number.isFinite(item)) && !(nullable && item === null)) wrong(field);
  };
  const string = (field: string, nullable = false): void => {
    const item = report[field];
    if (typeof item !== 'string' && !(nullable && item === null)) wrong(field);
  };
  for (const field of ['angelPid', 'startedAt', 'generation', 'restarts', 'overruns', 'watchdogMisses']) number(field);
  for (const field of ['childPid', 'childStartedAt', 'rssBytes', 'capBytes']) number(field, true);
  for (const field of ['version', 'program']) string(field);
  string('status', true);
  if (!Array.isArray(report.args) || !report.args.every((arg) => typeof arg === 'string')) wrong('args');
  if (!STATES.includes(report.state as State)) wrong('state');
  if (typeof report.ready !== 'boolean') wrong('ready');
  const reasons = report.restartsByReason;
  if (reasons === null || typeof reasons !== 'object' || !Object.values(reasons).every((count) => typeof count === 'number')) wrong('restartsByReason');
  const last = report.lastExit as Record<string, unknown> | null;
  if (last !== null && (typeof last !== 'object' || typeof last.generation !== 'number' || typeof last.reason !== 'string' || typeof last.at !== 'number'
    || !(typeof last.code === 'number' || last.code === null) || !(typeof last.signal === 'string' || last.signal === null))) wrong('lastExit');
  return value as StatusReport;
}

/** The one line angel tells its own manager (STATUS=), as `systemctl status` shows it. */
export function managerStatus(report: Pick<StatusReport, 'generation' | 'childPid' | 'rssBytes' | 'capBytes' | 'status' | 'state'>): string {
  const memory = report.rssBytes === null ? '' : `, ${mib(report.rssBytes)}${report.capBytes === null ? '' : ` of ${mib(report.capBytes)}`}`;
  const child = report.childPid === null ? report.state : `pid ${report.childPid}`;
  return `generation ${report.generation}, ${child}${memory}${report.status === null ? '' : `: ${report.status}`}`;
}

/** The report, as far as an angel's /metrics tell it (face/metrics.ts names them); args are in the program. */
export function statusFromMetrics(families: readonly Family[]): StatusReport {
  const value = (name: string, labels: Record<string, string> = {}): number | undefined => sampleValue(families, name, labels);
  const labelsOf = (name: string): Record<string, string> | undefined => families.flatMap((family) => family.samples).find((sample) => sample.name === name)?.labels;
  const info = labelsOf('angel_info');
  if (!info) throw new Error('no angel_info: not the /metrics of an angel');
  const counts = (name: string): Partial<Record<ExitReason, number>> => Object.fromEntries(
    families.flatMap((family) => family.samples).filter((sample) => sample.name === name && sample.labels.reason).map((sample) => [sample.labels.reason, sample.value]),
  );
  const childPid = value('angel_child_pid') || null;
  const exit = labelsOf('angel_last_exit_time_seconds');
  const cap = value('angel_memory_cap_bytes') ?? 0;
  const started = value('angel_child_start_time_seconds') ?? 0;
  const byReason = counts('angel_restarts_total');
  return {
    angelPid: Number(info.pid),
    version: info.version ?? '?',
    program: info.program ?? '?',
    args: [],
    state: (info.state ?? 'running') as State,
    startedAt: (value('process_start_time_seconds') ?? 0) * 1000,
    generation: value('angel_generation') ?? -1,
    childPid,
    childStartedAt: childPid === null || started === 0 ? null : started * 1000,
    ready: value('angel_child_ready') === 1,
    rssBytes: childPid === null ? null : value('angel_child_resident_memory_bytes') ?? null,
    capBytes: cap === 0 ? null : cap,
    restarts: Object.values(byReason).reduce((sum, count) => sum + count, 0),
    restartsByReason: byReason,
    overruns: value('angel_overruns_total') ?? 0,
    watchdogMisses: value('angel_watchdog_misses_total') ?? 0,
    lastExit: exit ? {
      generation: Number(exit.generation), reason: exit.reason as ExitReason, code: exit.code === '' ? null : Number(exit.code),
      signal: exit.signal || null, at: (value('angel_last_exit_time_seconds') ?? 0) * 1000,
    } : null,
    status: labelsOf('angel_child_status_info')?.status ?? null,
  };
}
