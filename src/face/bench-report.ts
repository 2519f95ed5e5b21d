// What `angel bench` prints and exports: one hyperfine-like table (a row per phase, and the generations' peak
// memory), the warnings that say when a row is spoiled, the JSON of every sample and the CSV of the phases,
// both with hyperfine's names for what hyperfine also measures. Pure: text in, text out.
import { median, outliers, summarize, type Summary } from '../core/stats.js';
import type { Sample } from '../driver/bench-cycle.js';
import type { Phase } from '../driver/bench-watch.js';

export interface Collected {
  samples: Record<Phase, Array<Sample & { cycle: number }>>;
  memory: Array<{ cycle: number; generation: number; peakRssBytes: number }>;
  /** Generations that ended without a sample of their memory that counts. */
  notMeasured: number;
  probe: { target: string; requests: number; failed: number; errors: Record<string, number> } | null;
}

/** What the table's labels and warnings need to know of the run. */
export interface RunFacts {
  command: string;
  runs: number;
  warmup: number;
  readyExec: boolean;
  stopSignal: string;
  killTimeout: number;
  /** Why the reload was not measured, when it was not. */
  reloadSkipped: string | null;
}

interface Row {
  label: string;
  unit: 'ms' | 'MiB';
  summary: Summary;
  /** angel's part: the ratio of its sum to the total's, and its mean. */
  angel: { share: number; meanMs: number } | null;
}

const PHASES: readonly Phase[] = ['start', 'restart', 'reload', 'stop'];
const MIB = 2 ** 20;

function labelOf(phase: Phase, facts: RunFacts): string {
  switch (phase) {
    case 'start': return 'start (spawn → ready)';
    case 'restart': return 'restart (SIGKILL → ready)';
    case 'reload': return 'reload (SIGHUP → ready, old gone)';
    case 'stop': return `stop (${facts.stopSignal} → tree gone)`;
  }
}

/** angel's part of a phase: the sum of its spans over the sum of the whole (a ratio of means), and its mean. */
function angelPart(samples: readonly Sample[]): Row['angel'] {
  if (samples.length === 0 || samples.some((sample) => sample.angelMs === null)) return null;
  const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);
  const angel = sum(samples.map((sample) => sample.angelMs as number));
  return { share: angel / sum(samples.map((sample) => sample.totalMs)), meanMs: angel / samples.length };
}

function rowsOf(collected: Collected, facts: RunFacts): Row[] {
  const rows: Row[] = [];
  for (const phase of PHASES) {
    const samples = collected.samples[phase];
    if (samples.length === 0) continue;
    rows.push({ label: labelOf(phase, facts), unit: 'ms', summary: summarize(samples.map((sample) => sample.totalMs)), angel: angelPart(samples) });
  }
  if (collected.memory.length > 0) {
    rows.push({ label: 'peak memory (per generation)', unit: 'MiB', summary: summarize(collected.memory.map((entry) => entry.peakRssBytes / MIB)), angel: null });
  }
  return rows;
}

/** Milliseconds to three significant figures or so; memory to a tenth of a MiB. */
function show(value: number, unit: Row['unit']): string {
  if (unit === 'MiB') return `${value.toFixed(1)} MiB`;
  // by the value as it will be rounded: 99.996 is `100.0 ms`, not `100.00 ms`
  return `${value.toFixed(value >= 99.95 ? 1 : value >= 9.9995 ? 2 : 3)} ms`;
}

const HEAD = ['', 'runs', 'mean ± σ', 'median', 'p90', 'p99', 'min', 'max', "angel's share"];

function cellsOf(row: Row): string[] {
  const { summary: s, unit } = row;
  const angel = row.angel === null ? '-' : `${row.angel.share.toFixed(2)} (${show(row.angel.meanMs, 'ms')})`;
  return [row.label, String(s.samples), `${show(s.mean, unit)} ± ${show(s.sd, unit)}`, ...[s.median, s.p90, s.p99, s.min, s.max].map((value) => show(value, unit)), angel];
}

/** The lines under the table: the probe's count, and what was not measured. */
function notesOf(collected: Collected, facts: RunFacts): string[] {
  const notes: string[] = [];
  const { probe } = collected;
  if (probe) {
    const causes = Object.entries(probe.errors).map(([cause, count]) => `${cause} ${count}`).join(', ');
    notes.push(`probe ${probe.target}: ${probe.requests} requests during ${collected.samples.reload.length} reloads, ${probe.failed} failed${causes ? ` (${causes})` : ''}`);
  }
  if (facts.reloadSkipped) notes.push(`reload: not measured (${facts.reloadSkipped})`);
  if (collected.notMeasured > 0) {
    const generations = collected.memory.length + collected.notMeasured;
    notes.push(`peak memory: ${collected.notMeasured} of ${generations} generations not measured (they ended before a sample of their memory counted)`);
  }
  return notes;
}

export function renderText(collected: Collected, facts: RunFacts): string {
  const table = [HEAD, ...rowsOf(collected, facts).map(cellsOf)];
  const widths = HEAD.map((_, column) => Math.max(...table.map((cells) => (cells[column] ?? '').length)));
  const lines = table.map((cells) =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('   ').trimEnd(),
  );
  const title = `angel bench: ${facts.command} (${facts.runs} runs${facts.warmup > 0 ? `, ${facts.warmup} warm-up` : ''})`;
  return [title, '', ...lines.map((line) => `  ${line}`), ...notesOf(collected, facts).map((note) => `\n  ${note}`)].join('\n');
}

export function renderMarkdown(collected: Collected, facts: RunFacts, warnings: readonly string[]): string {
  const escape = (text: string): string => text.replace(/\|/g, '\\|');
  const lines = [
    `### angel bench: \`${facts.command}\``,
    '',
    `${facts.runs} runs${facts.warmup > 0 ? ` after ${facts.warmup} warm-up` : ''}.`,
    '',
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map((_, column) => (column === 0 ? '---' : '---:')).join('|')}|`,
    ...rowsOf(collected, facts).map((row) => `| ${cellsOf(row).map(escape).join(' | ')} |`),
  ];
  for (const note of [...notesOf(collected, facts), ...warnings]) lines.push('', note);
  return `${lines.join('\n')}\n`;
}

/** What spoils a row: outliers (a cold first cycle above all), a program that counts as ready at exec, stop
 * signals that needed the kill timeout. */
export function warningsOf(collected: Collected, facts: RunFacts): string[] {
  const warnings: string[] = [];
  const spoiled: string[] = [];
  const cold: string[] = [];
  for (const phase of PHASES) {
    const totals = collected.samples[phase].map((sample) => sample.totalMs);
    const far = outliers(totals);
    if (far.includes(0) && facts.warmup === 0) cold.push(`${phase} ${show(totals[0] as number, 'ms')} (median ${show(summarize(totals).median, 'ms')})`);
    if (far.some((index) => index > 0 || facts.warmup > 0)) spoiled.push(phase);
  }
  if (cold.length > 0) {
    warnings.push(`Warning: the first cycle was much slower than the rest: ${cold.join(', ')}; a cold start of angel or ` +
      'the program. --warmup 1 leaves it out.');
  }
  if (spoiled.length > 0) {
    warnings.push(`Warning: statistical outliers in ${spoiled.join(', ')} (beyond 14 median absolute deviations of the median): ` +
      "other load on the machine, or the program's own timers (see max). Consider re-running on a quiet system.");
  }
  if (facts.readyExec) {
    warnings.push("Warning: --ready exec: the program counts as ready once exec'd, so its own start is not seen (exec → ready is 0 " +
      "and angel's share 1.00); --ready fd, tcp:PORT or delay:MS let the bench see it.");
  }
  for (const phase of ['reload', 'stop'] as const) {
    const killed = collected.samples[phase].filter((sample) => sample.killed === true).length;
    if (killed > 0) {
      warnings.push(`Warning: ${phase}: the program outlived ${facts.stopSignal} in ${killed} of ${collected.samples[phase].length} cycles ` +
        `and was SIGKILLed at --kill-timeout (${facts.killTimeout} ms): those samples time the timeout.`);
    }
  }
  return warnings;
}

/** A phase as hyperfine reports a command, under its names and in its unit (seconds): what hyperfine's own
 * scripts and its users' read. exit_codes: the code of the generation the phase ended, null where a signal
 * ended it (hyperfine's null) or the phase ended none (a start). */
export interface HyperfineResult {
  command: string;
  mean: number;
  stddev: number;
  median: number;
  min: number;
  max: number;
  times: number[];
  exit_codes: Array<number | null>;
}

function hyperfineResult(phase: Phase, samples: readonly Sample[], facts: RunFacts): HyperfineResult {
  const times = samples.map((sample) => sample.totalMs / 1000);
  const { mean, sd, min, max } = summarize(times);
  return { command: `${phase}: ${facts.command}`, mean, stddev: sd, median: median(times), min, max, times, exit_codes: samples.map((sample) => sample.exitCode ?? null) };
}

/** Every sample, the summaries and the warnings, as `--export-json` writes them: each phase in angel's fields
 * (milliseconds) and hyperfine's (seconds), and the phases again as hyperfine's `results`. */
export function jsonReport(collected: Collected, facts: RunFacts, extra: Record<string, unknown>, warnings: readonly string[]): unknown {
  const phases: Record<string, unknown> = {};
  const results: HyperfineResult[] = [];
  for (const phase of PHASES) {
    const samples = collected.samples[phase];
    if (samples.length === 0) continue;
    const hyperfine = hyperfineResult(phase, samples, facts);
    results.push(hyperfine);
    const { command: _command, ...fields } = hyperfine;
    phases[phase] = { unit: 'ms', summary: summarize(samples.map((sample) => sample.totalMs)), angelShare: angelPart(samples)?.share ?? null, samples, ...fields };
  }
  return {
    command: facts.command,
    runs: facts.runs,
    warmup: facts.warmup,
    ...extra,
    phases,
    results,
    memory: { unit: 'bytes', summary: summarize(collected.memory.map((entry) => entry.peakRssBytes)), samples: collected.memory, notMeasured: collected.notMeasured },
    probe: collected.probe,
    warnings,
  };
}

/** `--export-csv`: hyperfine's columns, a line a phase, in seconds; user and system time are not measured here,
 * and are left empty. */
export function renderCsv(collected: Collected, facts: RunFacts): string {
  const quote = (text: string): string => (/[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  const lines = ['command,mean,stddev,median,user,system,min,max'];
  for (const phase of PHASES) {
    const samples = collected.samples[phase];
    if (samples.length === 0) continue;
    const { command, mean, stddev, median: middle, min, max } = hyperfineResult(phase, samples, facts);
    lines.push([quote(command), mean, stddev, middle, '', '', min, max].join(','));
  }
  return `${lines.join('\n')}\n`;
}
