// Reload under load: 20 SIGHUPs while a client sends requests without pause, with --listen (the next
// generation serves before the old one stops) against the naive stop-then-start, in the same run.
import { join } from 'node:path';
import { freePort } from '../support/net.js';
import { Load } from '../support/load.js';
import { startAngel } from './lib/angel.js';
import { ROOT } from './lib/compile.js';
import { summarize } from '../src/core/stats.js';
import { verdict, type Row } from './lib/table.js';
import type { Benchmark } from './lib/benchmark.js';
import { TARGETS } from './lib/targets.js';

const SERVER = join(ROOT, 'test', 'fixtures', 'http-server.mjs');

async function reloadsUnderLoad(name: string, held: boolean, reloads: number): Promise<Row> {
  const port = await freePort();
  const args = held
    ? ['--listen', `127.0.0.1:${port}`, '--ready', 'fd', '--', process.execPath, SERVER]
    : ['--ready', 'fd', '--env', `PORT=${port}`, '--', process.execPath, SERVER];
  const angel = startAngel(args);
  const exits = () => angel.events.filter((event) => event.event === 'exit').length;
  const readies = () => angel.events.filter((event) => event.event === 'ready').length;
  try {
    await angel.until(() => readies() >= 1, 10_000);
    const load = new Load(port, 1_000_000, 120_000);
    for (let reload = 1; reload <= reloads; reload++) {
      angel.process.kill('SIGHUP');
      await angel.until(() => exits() >= reload && readies() >= reload + 1, 15_000);
      await load.answered(20, 15_000).catch(() => undefined); // the naive setup may fail them all for a while
    }
    const result = await load.stop();
    return {
      name,
      summary: summarize(result.latencies),
      values: { requests: String(result.ok + result.failed), failed: String(result.failed) },
    };
  } catch (error) {
    return { name, error: (error as Error).message };
  } finally {
    angel.process.kill('SIGTERM');
    await angel.exited;
  }
}

export const reloadBenchmark: Benchmark = {
  name: 'reload',
  async run({ quick }) {
    const reloads = quick ? 5 : 20;
    const naive = await reloadsUnderLoad('angel, naive stop-then-start (server binds its port)', false, reloads);
    const held = await reloadsUnderLoad('angel --listen (held socket, overlapping reload)', true, reloads);
    if (!held.error) held.target = `${TARGETS.reloadFailed} failed: ${verdict(Number(held.values?.failed) <= TARGETS.reloadFailed)}`;
    const failures = (row: Row): string => row.error !== undefined ? `error: ${row.error}` : `${row.values?.failed} of ${row.values?.requests} requests failed`;
    return {
      title: `${reloads} reloads (SIGHUP) of a Node HTTP server under load: latency of the answered requests`,
      unit: 'ms',
      floor: naive.name,
      rows: [naive, held],
      notes: [
        'Target (benchmarks/lib/targets.ts): zero failed requests over 20 reloads with --listen. The latencies are the client\'s clock (performance.now), from a request\'s start, its connect included, to the end of its answer. One client on loopback sends requests ' +
          'one after another, each on a fresh connection, for the whole run. The first row is the baseline (no floor ' +
          'in C here): the server binds its own port, so each reload is a stop, then a start. With --listen angel holds ' +
          'the socket, starts the next generation, waits until it is ready (--ready fd), then stops the old one. PM2 is ' +
          "not in this table: its zero-downtime reload is a cluster-mode feature (Node's cluster module), another setup.",
      ],
      headline: [
        {
          measure: `${reloads} reloads (SIGHUP) of an HTTP server under load`,
          angel: `--listen: ${failures(held)}`,
          floor: `stop-then-start: ${failures(naive)}`,
          peers: '',
          target: held.target ?? `error: ${held.error}`,
        },
      ],
    };
  },
};
