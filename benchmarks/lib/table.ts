// One table per measure: the floor first, then angel and the peers, each with its ratio to the floor.
// A row that errored stays in the table with its error.
import type { Summary } from './stats.js';

export interface Row {
  name: string;
  summary?: Summary;
  /** Extra columns for measures that are not latency distributions. */
  values?: Record<string, string>;
  error?: string;
  /** The row this one's ratio is taken against, when not the table's floor (a floor sampled beside it). */
  floor?: string;
}

export interface Table {
  title: string;
  unit: string;
  rows: Row[];
  /** The row the ratios are taken against (by name). */
  floor?: string;
  verdict?: string;
}

const fmt = (value: number | undefined): string => (value === undefined || Number.isNaN(value) ? '-' : value < 10 ? value.toFixed(3) : value.toFixed(1));

/** One line, no column breaks: an error (a compiler's stderr, say) must not split the table. */
const cell = (text: string): string => text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|').trim();

export function toMarkdown(table: Table): string {
  const floorOf = (row: Row): number | undefined => table.rows.find((candidate) => candidate.name === (row.floor ?? table.floor))?.summary?.median;
  const extra = [...new Set(table.rows.flatMap((row) => Object.keys(row.values ?? {})))];
  const hasSummary = table.rows.some((row) => row.summary);
  const head = ['', ...(hasSummary ? ['samples', `median (${table.unit})`, 'p90', 'p99', 'x floor (median)'] : []), ...extra];
  const lines = [`### ${table.title}`, '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of table.rows) {
    const cells = [row.name];
    if (hasSummary) {
      if (row.error) cells.push(`error: ${row.error}`, '', '', '', '');
      else if (row.summary) {
        const floor = floorOf(row);
        const ratio = floor ? `${(row.summary.median / floor).toFixed(2)}x` : '-';
        cells.push(String(row.summary.samples), fmt(row.summary.median), fmt(row.summary.p90), fmt(row.summary.p99), ratio);
      } else cells.push('', '', '', '', '');
    }
    for (const key of extra) cells.push(row.values?.[key] ?? (row.error && !hasSummary ? `error: ${row.error}` : ''));
    lines.push(`| ${cells.map(cell).join(' | ')} |`);
  }
  if (table.verdict) lines.push('', table.verdict);
  return lines.join('\n');
}
