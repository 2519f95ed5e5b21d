// Idle footprint: the resident memory and the threads of angel watching an idle program, against a bare idle
// Node (`node -e 'setInterval(() => {}, 1e3)'`) in the same run. Each round starts one of each side by side, lets
// them settle, reads /proc/<pid>/status, and stops them.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { summarize } from '../src/core/stats.js';
import type { Benchmark } from './lib/benchmark.js';
import { BIN_ANGEL, buildC, sleep } from './lib/compile.js';
import { rssMb, rssParts, threadCount } from './lib/proc.js';
import { fmt, verdict, type Row } from './lib/table.js';
import { TARGETS } from './lib/targets.js';

/** After the start, before the reading: Node's boot and angel's first compiles are done, its first samples taken. */
const SETTLE_MS = 3000;

interface Idler {
  name: string;
  command: () => string[];
  /** Held to the target. */
  judged: boolean;
  env?: Record<string, string>;
}

interface Reading {
  rss: number[];
  anon: number[];
  file: number[];
  threads: number[];
  error?: string;
}

const stopped = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('close', () => resolve())));

export const idleBenchmark: Benchmark = {
  name: 'idle',
  async run({ quick }) {
    const rounds = quick ? 2 : 8;
    const program = (): string => buildC('tree'); // `tree 1`: one process that waits for signals
    const idlers: Idler[] = [
      { name: "bare idle Node: `node -e 'setInterval(() => {}, 1e3)'`", command: () => [process.execPath, '-e', 'setInterval(() => {}, 1e3)'], judged: false },
      { name: 'angel as users run it: `bin/angel -- tree 1` (an idle program)', command: () => [BIN_ANGEL, '--', program(), '1'], judged: true },
      { name: 'the same with --max-mem 512M (the tree sampled every 100 ms)', command: () => [BIN_ANGEL, '--max-mem', '512M', '--', program(), '1'], judged: true },
      // which threads angel has beyond Node's: libuv's threadpool (4 by default) starts at its first use
      { name: 'the same with UV_THREADPOOL_SIZE=1 (libuv\'s threadpool cut to one thread)', command: () => [BIN_ANGEL, '--max-mem', '512M', '--', program(), '1'], judged: false, env: { UV_THREADPOOL_SIZE: '1' } },
    ];
    const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
    const readings: Reading[] = idlers.map(() => ({ rss: [], anon: [], file: [], threads: [] }));
    for (let round = 0; round < rounds; round++) {
      const started: Array<ChildProcess | null> = idlers.map((idler, index) => {
        if (readings[index]!.error !== undefined) return null;
        try {
          const [command, ...args] = idler.command();
          return spawn(command as string, args, { stdio: 'ignore', env: { ...env, ...idler.env } });
        } catch (error) {
          readings[index]!.error = (error as Error).message;
          return null;
        }
      });
      await sleep(SETTLE_MS);
      for (const [index, child] of started.entries()) {
        const reading = readings[index]!;
        if (!child) continue;
        try {
          reading.rss.push(rssMb(child.pid as number));
          const { anonMb, fileMb } = rssParts(child.pid as number);
          reading.anon.push(anonMb);
          reading.file.push(fileMb);
          reading.threads.push(threadCount(child.pid as number));
        } catch {
          reading.error = `exited ${child.exitCode ?? child.signalCode} before it was read`;
        }
        child.kill('SIGTERM');
      }
      await Promise.all(started.map((child) => (child ? stopped(child) : undefined)));
    }

    const node = readings[0]!;
    const nodeRss = node.rss.length > 0 ? summarize(node.rss).median : NaN;
    const nodeThreads = node.threads.length > 0 ? summarize(node.threads).median : NaN;
    const rows: Row[] = idlers.map((idler, index) => {
      const reading = readings[index]!;
      if (reading.error !== undefined) return { name: idler.name, error: reading.error };
      const rss = summarize(reading.rss).median;
      const threads = summarize(reading.threads).median;
      const values = {
        'MB over Node': `${rss - nodeRss >= 0 ? '+' : ''}${fmt(rss - nodeRss)}`,
        'of it anon MB': fmt(summarize(reading.anon).median),
        'file MB': fmt(summarize(reading.file).median),
        threads: String(threads),
      };
      const row: Row = { name: idler.name, summary: summarize(reading.rss), values };
      if (idler.judged && node.error === undefined) {
        row.target = `RSS <= Node + ${TARGETS.idleRssOverNodeMb} MB: ${verdict(rss - nodeRss <= TARGETS.idleRssOverNodeMb)}; ` +
          `threads <= Node's ${nodeThreads}: ${verdict(threads <= nodeThreads)}`;
      }
      return row;
    });
    const angelRow = rows[1]!;
    return {
      title: `idle footprint: RSS and threads ${SETTLE_MS / 1000} s after the start, ${rounds} fresh processes per row, side by side`,
      unit: 'MB',
      floor: idlers[0]!.name,
      rows,
      notes: [
        `Targets (benchmarks/lib/targets.ts): angel's RSS within bare idle Node's + ${TARGETS.idleRssOverNodeMb} MB at the median, and no ` +
          "more threads than Node's own unless a feature asked for them. RSS is VmRSS, taken apart into RssAnon (heaps, " +
          'stacks) and RssFile (mapped files: code, the addon), and threads the Threads line of ' +
          `/proc/<pid>/status, ${SETTLE_MS} ms after the start (angel: the Node process bin/angel execs, not its program); the ` +
          "rows of a round run side by side. Node 20 names every thread `node`, so the last row tells angel's extra threads " +
          "apart: with libuv's threadpool cut to one thread, angel has that many fewer (the pool starts at the first " +
          'asynchronous file system call, and stays).',
      ],
      headline: [
        {
          measure: 'idle footprint: RSS and threads of angel watching an idle program (VmRSS, /proc)',
          angel: angelRow.error !== undefined ? `error: ${angelRow.error}` : `${fmt(angelRow.summary?.median)} MB, ${angelRow.values?.threads} threads`,
          floor: `bare idle Node ${fmt(nodeRss)} MB, ${nodeThreads} threads`,
          peers: '',
          target: angelRow.target ?? `error: ${angelRow.error ?? node.error}`,
        },
      ],
    };
  },
};
