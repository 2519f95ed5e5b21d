// `npm run bench [-- NAME...] [-- --quick]` (or BENCH_QUICK=1): each measure prints one table, with the
// floor, angel and the peers side by side, and the tables go to benchmarks/results.md, which is committed as
// the last measured result. A run of some measures only replaces their sections there; each section says
// when and how (quick or full) it was measured. Adding a measure is one line in `benchmarks` below.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { crashLoopBenchmark } from './crash-loop.js';
import { BENCHMARKS } from './lib/compile.js';
import type { Benchmark } from './lib/benchmark.js';
import type { Table } from './lib/table.js';
import { errorRow, toMarkdown } from './lib/table.js';
import { overrunBenchmark } from './overrun.js';
import { ranBenchmark } from './ran.js';
import { reapBenchmark } from './reap.js';
import { reloadBenchmark } from './reload.js';
import { restartBenchmark } from './restart.js';
import { spawnBenchmark } from './spawn.js';
import { watchBenchmark } from './watch.js';

// In this order, one after another: none runs beside another (the watch cost is CPU time).
// The crash loop last: it is the long one (a minute or more).
const benchmarks: Benchmark[] = [spawnBenchmark, restartBenchmark, overrunBenchmark, watchBenchmark, reloadBenchmark, crashLoopBenchmark, reapBenchmark, ranBenchmark];

const RESULTS = join(BENCHMARKS, 'results.md');
const marker = (name: string): string => `<!-- bench:${name} -->`;

/** Sections of the results file by benchmark name, in file order. */
function readSections(): Map<string, string> {
  const sections = new Map<string, string>();
  if (!existsSync(RESULTS)) return sections;
  const parts = readFileSync(RESULTS, 'utf8').split(/^(?=<!-- bench:)/m);
  for (const part of parts) {
    const name = /^<!-- bench:([\w-]+) -->/.exec(part)?.[1];
    if (name) sections.set(name, part.trimEnd());
  }
  return sections;
}

function writeSections(sections: Map<string, string>): void {
  const ordered = [
    ...benchmarks.map((benchmark) => sections.get(benchmark.name)).filter((text) => text !== undefined),
  ];
  const head =
    '# Benchmark results\n\nThe tables of the last `npm run bench`, one section per measure (a run of some measures ' +
    'replaces only theirs). Each says when, on what and how it was measured; a quick run is a check, not a figure to quote.';
  writeFileSync(RESULTS, `${head}\n\n${ordered.join('\n\n')}\n`);
}

const args = process.argv.slice(2);
const quick = args.includes('--quick') || process.env.BENCH_QUICK === '1';
const wanted = args.filter((arg) => !arg.startsWith('--'));
const unknown = wanted.filter((name) => !benchmarks.some((benchmark) => benchmark.name === name));
if (unknown.length > 0) {
  process.stderr.write(`bench: no benchmark named ${unknown.join(', ')}; there are: ${benchmarks.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}

const machine = `${process.platform} ${process.arch}, ${cpus().length} cores, node ${process.version}`;
const sections = readSections();
for (const benchmark of benchmarks) {
  if (wanted.length > 0 && !wanted.includes(benchmark.name)) continue;
  process.stderr.write(`running ${benchmark.name}${quick ? ' (quick)' : ''}…\n`);
  const started = performance.now();
  let table: Table;
  try {
    table = await benchmark.run({ quick });
  } catch (error) {
    table = { title: benchmark.name, unit: 'ms', rows: [errorRow(benchmark.name, error)] };
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  const text = `${toMarkdown(table)}\n\n_${quick ? 'Quick run' : 'Full run'}, ${new Date().toISOString()}, ${machine}; took ${seconds} s._`;
  process.stdout.write(`\n${text}\n`);
  sections.set(benchmark.name, `${marker(benchmark.name)}\n${text}`);
  writeSections(sections); // after each measure: an interrupted run keeps what it measured
}
