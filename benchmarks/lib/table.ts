// One table per measure: the floor first, then angel and the peers, each with its ratio to its floor and,
// where benchmarks/lib/targets.ts sets one, whether it meets the target. A row that errored stays in the table with its error.
import type { Summary } from '../../src/core/stats.js';

export interface Row {
  name: string;
  summary?: Summary;
  /** Extra columns (measures that are not latency distributions, or counts beside one). */
  values?: Record<string, string>;
  error?: string;
  /** The row this one's ratio is taken against, when not the table's floor (a floor sampled beside it). */
  floor?: string;
  /** What benchmarks/lib/targets.ts asks of this row and whether it holds, e.g. "<= 1.5x: met". */
  target?: string;
}

/** One row of the README's Performance table: the figures a table above it printed, restated with their clock
 * (scripts/performance-table.mjs copies these rows from benchmarks/results.md into the README). */
interface HeadlineRow {
  /** What is measured, from where to where, and by which clock. */
  measure: string;
  angel: string;
  floor: string;
  peers: string;
  /** The target and its verdict, as the table's target cell gives it. */
  target: string;
}

/** The line that opens a section's headline rows in results.md; scripts/performance-table.mjs looks for it. */
const HEADLINE_MARK = 'In the README (its Performance table is generated from these rows by `node scripts/performance-table.mjs`):';

export interface Table {
  title: string;
  /** Unit of the distribution columns. */
  unit: string;
  rows: Row[];
  /** The row the ratios are taken against (by name). */
  floor?: string;
  /** Paragraphs printed under the table: the targets' verdicts, the method, what the rows leave out. */
  notes?: string[];
  /** The rows this measure gives the README's Performance table. */
  headline?: HeadlineRow[];
}

/** 3 significant-ish decimals for small figures, one for large ones. */
export const fmt = (value: number | undefined): string =>
  value === undefined || Number.isNaN(value) ? '-' : Math.abs(value) < 10 ? value.toFixed(3) : value.toFixed(1);

/** A median (or any figure) in ms for a headline row: "0.168 ms". */
export const msText = (value: number | undefined): string => `${fmt(value)} ms`;

export const verdict = (met: boolean): string => (met ? 'met' : 'NOT met');

/** One line, no column breaks: an error (a compiler's stderr, say) must not split the table. */
const cell = (text: string): string => text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|').trim();

export function errorRow(name: string, error: unknown): Row {
  return { name, error: error instanceof Error ? error.message : String(error) };
}

export function toMarkdown(table: Table): string {
  const floorOf = (row: Row): number | undefined =>
    table.rows.find((candidate) => candidate.name === (row.floor ?? table.floor))?.summary?.median;
  const extra = [...new Set(table.rows.flatMap((row) => Object.keys(row.values ?? {})))];
  const hasSummary = table.rows.some((row) => row.summary);
  const hasTarget = table.rows.some((row) => row.target);
  const statHead = hasSummary ? ['samples', `median (${table.unit})`, 'p90', 'p95', 'p99', 'x floor (median)'] : [];
  const head = ['', ...statHead, ...extra, ...(hasTarget ? ['target'] : [])];
  const lines = [`### ${table.title}`, '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of table.rows) {
    const cells = [row.name];
    if (row.error !== undefined) {
      // the error fills the row: its figures are not there, and a blank would read as zero
      cells.push(`error: ${row.error}`, ...Array(head.length - 2).fill(''));
      lines.push(`| ${cells.map(cell).join(' | ')} |`);
      continue;
    }
    if (hasSummary) {
      const s = row.summary;
      if (s) {
        const floor = floorOf(row);
        const ratio = floor ? `${(s.median / floor).toFixed(2)}x` : '-';
        cells.push(String(s.samples), fmt(s.median), fmt(s.p90), fmt(s.p95), fmt(s.p99), ratio);
      } else cells.push(...Array(statHead.length).fill(''));
    }
    for (const key of extra) cells.push(row.values?.[key] ?? '');
    if (hasTarget) cells.push(row.target ?? '');
    lines.push(`| ${cells.map(cell).join(' | ')} |`);
  }
  for (const note of table.notes ?? []) lines.push('', note);
  if (table.headline && table.headline.length > 0) {
    lines.push('', HEADLINE_MARK, '', '| measure | angel | floor | peers | target |', '|---|---|---|---|---|');
    for (const row of table.headline) lines.push(`| ${[row.measure, row.angel, row.floor, row.peers, row.target].map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}
