#!/usr/bin/env node
// The README's Performance table, generated from benchmarks/results.md: each benchmark's section there ends with
// the rows it gives the README (written by `npm run bench`, from the figures of its own table), and this copies
// them, in the sections' order, with the run each comes from (full, or a quick validation run). No figure is
// written by hand: the README holds what the tables printed.
//   node scripts/performance-table.mjs          rewrite the table between the README's markers
//   node scripts/performance-table.mjs --check  exit 1 when the README's table differs from what results.md gives
// test/e2e/readme.test.ts holds the README to it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
export const RESULTS = join(root, 'benchmarks', 'results.md');
export const README = join(root, 'README.md');

/** What opens a section's README rows in results.md (benchmarks/lib/table.ts writes it). */
const HEADLINE_MARK = 'In the README (its Performance table is generated from these rows by `node scripts/performance-table.mjs`):';
const BEGIN = '<!-- performance-table: generated from benchmarks/results.md by `node scripts/performance-table.mjs`; edit the benchmarks, not this table -->';
const END = '<!-- /performance-table -->';

/** The README's table, from the text of results.md. Throws when a section gives no rows (measured before the
 * benchmarks gave any: run it again). */
export function performanceTable(results) {
  const sections = results.split(/^(?=<!-- bench:)/m).filter((part) => part.startsWith('<!-- bench:'));
  const lines = ['| measure | angel | floor | peers | target | run |', '|---|---|---|---|---|---|'];
  const missing = [];
  for (const section of sections) {
    const name = /^<!-- bench:([\w-]+) -->/.exec(section)?.[1];
    const at = section.indexOf(HEADLINE_MARK);
    if (at < 0) {
      missing.push(name);
      continue;
    }
    const run = /^_(Full|Quick) run, (\d{4}-\d\d-\d\d)T/m.exec(section);
    const when = run ? `${run[1] === 'Full' ? 'full' : 'quick (a check)'}, ${run[2]}` : 'unknown';
    // the table right after the mark: its header and separator, then its rows, up to the first line that is not one
    const after = section.slice(at + HEADLINE_MARK.length).split('\n').map((line) => line.trimEnd());
    const first = after.findIndex((line) => line.startsWith('|'));
    const end = after.findIndex((line, index) => index > first && !line.startsWith('|'));
    const rows = first < 0 ? [] : after.slice(first + 2, end < 0 ? undefined : end);
    for (const row of rows) lines.push(`${row} \`${name}\`, ${when} |`);
  }
  if (missing.length > 0) throw new Error(`benchmarks/results.md: no README rows in the section${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (run \`npm run bench ${missing.join(' ')}\`)`);
  return [BEGIN, ...lines, END].join('\n');
}

/** The README with its table replaced by `table`. */
export function withPerformanceTable(readme, table) {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`README.md: no performance table between the markers ${BEGIN} and ${END}`);
  return readme.slice(0, begin) + table + readme.slice(end + END.length);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const readme = readFileSync(README, 'utf8');
  const wanted = withPerformanceTable(readme, performanceTable(readFileSync(RESULTS, 'utf8')));
  if (process.argv.includes('--check')) {
    if (wanted !== readme) {
      process.stderr.write('README.md: the Performance table differs from what benchmarks/results.md gives; run node scripts/performance-table.mjs\n');
      process.exitCode = 1;
    }
  } else if (wanted !== readme) {
    writeFileSync(README, wanted);
    process.stderr.write('README.md: the Performance table is rewritten from benchmarks/results.md\n');
  }
}
