// `npm run bench [-- NAME...] [-- --quick] [-- --output FILE]` (or BENCH_QUICK=1): each measure prints one
// table, with the floor, angel and the peers side by side, and with --output the tables go to FILE. The tracked
// benchmarks/results.md, the last measured result, is written only when asked for by name (`npm run
// bench:results`), so a trial run leaves the checkout clean; then the README's Performance table is regenerated
// from it (scripts/performance-table.mjs: each section ends with the rows it gives the table). A run of some
// measures only replaces their sections in the file; each section says when and how (quick or full) it was
// measured, and the file's head names the quick ones. Adding a measure is one line in `benchmarks` below.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { crashLoopBenchmark } from './crash-loop.js';
import { idleBenchmark } from './idle.js';
import { launchBenchmark } from './launch.js';
import { BENCHMARKS, ROOT } from './lib/compile.js';
import type { Benchmark } from './lib/benchmark.js';
import type { Table } from './lib/table.js';
import { errorRow, toMarkdown } from './lib/table.js';
import { overrunBenchmark } from './overrun.js';
import { raceBenchmark } from './race.js';
import { ranBenchmark } from './ran.js';
import { reapBenchmark } from './reap.js';
import { reloadBenchmark } from './reload.js';
import { restartBenchmark } from './restart.js';
import { spawnBenchmark } from './spawn.js';
import { watchBenchmark } from './watch.js';

// In this order, one after another: none runs beside another (the watch cost is CPU time).
// The crash loop last: it is the long one (a minute or more).
const benchmarks: Benchmark[] = [
  launchBenchmark, idleBenchmark, spawnBenchmark, restartBenchmark, overrunBenchmark, raceBenchmark, watchBenchmark, reloadBenchmark, crashLoopBenchmark, reapBenchmark, ranBenchmark,
];

const marker = (name: string): string => `<!-- bench:${name} -->`;

/** Sections of a results file by benchmark name, in file order. */
function readSections(file: string): Map<string, string> {
  const sections = new Map<string, string>();
  if (!existsSync(file)) return sections;
  const parts = readFileSync(file, 'utf8').split(/^(?=<!-- bench:)/m);
  for (const part of parts) {
    const name = /^<!-- bench:([\w-]+) -->/.exec(part)?.[1];
    if (name) sections.set(name, part.trimEnd());
  }
  return sections;
}

function writeSections(file: string, sections: Map<string, string>): void {
  const ordered = [
    ...benchmarks.map((benchmark) => sections.get(benchmark.name)).filter((text) => text !== undefined),
  ];
  const quick = benchmarks.filter((benchmark) => /^_Quick run, /m.test(sections.get(benchmark.name) ?? '')).map((benchmark) => benchmark.name);
  const head =
    '# Benchmark results\n\nThe tables of the last `npm run bench`, one section per measure (a run of some measures ' +
    'replaces only theirs). Each says when, on what and how it was measured, and ends with the rows it gives the ' +
    "README's Performance table (`node scripts/performance-table.mjs` copies them; `npm run bench:results` runs it at its end).";
  const warning = quick.length === 0
    ? ''
    : `\n\n**Quick runs here: ${quick.join(', ')}.** Their figures come from a short validation run (fewer samples, shorter ` +
      'windows, often on a loaded machine): a check that the benchmark runs end to end and its table is sane, not figures to ' +
      'quote. A full `npm run bench:results` on a quiet machine replaces them.';
  writeFileSync(file, `${head}${warning}\n\n${ordered.join('\n\n')}\n`);
}

const { values: flags, positionals: wanted } = parseArgs({ options: { quick: { type: 'boolean' }, output: { type: 'string' } }, allowPositionals: true });
const quick = flags.quick === true || process.env.BENCH_QUICK === '1';
const output = flags.output === undefined ? null : resolve(flags.output);
const unknown = wanted.filter((name) => !benchmarks.some((benchmark) => benchmark.name === name));
if (unknown.length > 0) {
  process.stderr.write(`bench: no benchmark named ${unknown.join(', ')}; there are: ${benchmarks.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}

const machine = `${process.platform} ${process.arch}, ${cpus().length} cores, node ${process.version}`;
if (output === null) process.stderr.write(`bench: the tables are printed only: --output FILE writes them to a file, npm run bench:results to ${join(BENCHMARKS, 'results.md')}\n`);
const sections = output === null ? new Map<string, string>() : readSections(output);
for (const benchmark of benchmarks) {
  if (wanted.length > 0 && !wanted.includes(benchmark.name)) continue;
  process.stderr.write(`running ${benchmark.name}${quick ? ' (quick)' : ''}…\n`);
  const started = performance.now();
  let table: Table;
  try {
    table = await benchmark.run({ quick });
  } catch (error) {
    const row = errorRow(benchmark.name, error);
    table = { title: benchmark.name, unit: 'ms', rows: [row], headline: [{ measure: benchmark.name, angel: `error: ${row.error}`, floor: '', peers: '', target: '' }] };
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  const text = `${toMarkdown(table)}\n\n_${quick ? 'Quick run' : 'Full run'}, ${new Date().toISOString()}, ${machine}; took ${seconds} s._`;
  process.stdout.write(`\n${text}\n`);
  sections.set(benchmark.name, `${marker(benchmark.name)}\n${text}`);
  if (output !== null) writeSections(output, sections); // after each measure: an interrupted run keeps what it measured
}

// the README's Performance table, from the tracked results as they now are
if (output === join(BENCHMARKS, 'results.md')) {
  const readme = spawnSync(process.execPath, [join(ROOT, 'scripts', 'performance-table.mjs')], { stdio: 'inherit' });
  if (readme.status !== 0) process.exitCode = 1;
}
