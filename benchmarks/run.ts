// `npm run bench [-- name...] [-- --quick]`: every measure in one run, each as one table with the floor,
// angel and its peers side by side. The tables are also written to benchmarks/results.md.
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
