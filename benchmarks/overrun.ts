// Overrun detection: a child notes when its RSS crosses the cap and reports the time until its stop signal.
// angel at --sample-interval 100 and 20 against a C sampler at the same intervals.
import { startAngel } from './lib/angel.js';
import { buildC, parseSamples, runC } from './lib/compile.js';
import { summarize } from './lib/stats.js';
import type { Row, Table } from './lib/table.js';
import type { Benchmark } from './run.js';

const CAP = 64 * 2 ** 20;

async function angelSamples(child: string, interval: number, count: number): Promise<number[]> {
  const angel = startAngel(['--max-mem', String(CAP), '--sample-interval', String(interval), '--max-restart-delay', '0',
    '--max-restarts', '100000', '--kill-timeout', '2000', '--', child, String(CAP)]);
  try {
    await angel.until(() => angel.stdout.length >= count, 60_000);
  } finally {
    angel.process.kill('SIGTERM');
    await angel.exited;
  }
  return angel.stdout.slice(0, count).map(Number);
}

export const overrunBenchmark: Benchmark = {
  name: 'overrun',
  async run({ quick }) {
    const count = quick ? 8 : 25;
    const child = buildC('overrun-child');
    const sampler = buildC('tree-sampler');
    const tables: Table[] = [];
    for (const interval of [100, 20]) {
      const rows: Row[] = [];
      const floorName = `C sampler, ${interval} ms`;
      try {
        rows.push({ name: floorName, summary: summarize(parseSamples(runC(sampler, ['overrun', String(interval), String(CAP), String(count), child, String(CAP)]))) });
      } catch (error) {
        rows.push({ name: floorName, error: (error as Error).message });
      }
      try {
        rows.push({ name: `angel --sample-interval ${interval}`, summary: summarize(await angelSamples(child, interval, count)) });
      } catch (error) {
        rows.push({ name: `angel --sample-interval ${interval}`, error: (error as Error).message });
      }
      const [floor, angel] = rows.map((row) => row.summary);
      const gap = (angel?.median ?? NaN) - (floor?.median ?? NaN);
      const p99 = angel?.p99 ?? NaN;
      tables.push({
        title: `overrun detection at ${interval} ms: RSS crosses the cap -> stop signal`,
        unit: 'ms',
        floor: floorName,
        rows,
        notes: [`Targets: median within 10 ms of the C sampler (${gap.toFixed(1)} ms: ${gap <= 10 ? 'met' : 'NOT met'}); p99 <= interval + 5 ms (${p99.toFixed(1)} ms: ${p99 <= interval + 5 ? 'met' : 'NOT met'}). PM2 checks every 30 s by default (DESIGN.md: 8.4 s; 89 ms when told to check every 100 ms); not installed here.`],
      });
    }
    return tables[0] as Table;
  },
};
