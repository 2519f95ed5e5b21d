// `npm run bench [-- name...] [-- --quick]` (or BENCH_QUICK=1): every measure in one run, each as one table
// with the floor, angel and its peers side by side. A full run (no names, not quick) also writes the tables to
// benchmarks/results.md, which is committed: the README's figures come from it. Adding a measure is one
// entry in `benchmarks` below (and its import): a module exporting { name, run(options): Promise<Table[]> }.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib/native-build.js';
import { toMarkdown, type Table } from './lib/table.js';
import { overrunBenchmark } from './overrun.js';
import { reloadBenchmark } from './reload.js';
import { restartBenchmark } from './restart.js';
import { spawnBenchmark } from './spawn.js';
import { watchBenchmark } from './watch.js';

export interface BenchOptions {
  quick: boolean;
}

export interface Benchmark {
  name: string;
  run(options: BenchOptions): Promise<Table[]>;
}

const benchmarks: Benchmark[] = [spawnBenchmark, restartBenchmark, overrunBenchmark, watchBenchmark, reloadBenchmark];

const args = process.argv.slice(2);
const quick = args.includes('--quick') || process.env.BENCH_QUICK === '1';
const wanted = args.filter((arg) => !arg.startsWith('--'));
const unknown = wanted.filter((name) => !benchmarks.some((benchmark) => benchmark.name === name));
if (unknown.length > 0) {
  process.stderr.write(`bench: no benchmark named ${unknown.join(', ')}; there are: ${benchmarks.map((benchmark) => benchmark.name).join(', ')}\n`);
  process.exit(2);
}
const sections: string[] = [`Measured ${new Date().toISOString()} on ${process.platform} ${process.arch}, node ${process.version}${quick ? ' (quick)' : ''}.`];
for (const benchmark of benchmarks) {
  if (wanted.length > 0 && !wanted.includes(benchmark.name)) continue;
  process.stderr.write(`running ${benchmark.name}…\n`);
  let tables: Table[];
  try {
    tables = await benchmark.run({ quick });
  } catch (error) {
    tables = [{ title: benchmark.name, unit: 'ms', rows: [{ name: benchmark.name, error: (error as Error).message }] }];
  }
  for (const table of tables) {
    const text = toMarkdown(table);
    process.stdout.write(`\n${text}\n`);
    sections.push(text);
  }
}
if (wanted.length === 0 && !quick) writeFileSync(join(ROOT, 'benchmarks', 'results.md'), `# Benchmark results\n\n${sections.join('\n\n')}\n`);
