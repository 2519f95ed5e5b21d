// The cost of watching: CPU time and RSS of a watcher sampling a 20-process tree every 100 ms, measured
// from outside, the same way for each: utime + stime of all its threads from /proc/<pid>/stat at the start
// and the end of the window, VmRSS at the end, and the CPU time of each second of the window (the threads'
// schedstat) as the distribution. One watcher at a time, nothing else running.
import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { startAngel } from './lib/angel.js';
import { buildC, sleep } from './lib/compile.js';
import { Pm2Daemon, pm2Version } from './lib/pm2.js';
import { cpuMs, CPU_RESOLUTION_MS, rssMb, threadsCpuMs } from './lib/proc.js';
import { treePids } from '../src/kernel/proctree.js';
import { summarize } from '../src/core/stats.js';
import { errorRow, verdict, type Row } from './lib/table.js';
import type { Benchmark } from './lib/benchmark.js';

const PROCESSES = 20;
const INTERVAL_MS = 100;
const CAP = String(10 * 2 ** 30);
/** docs/ARCHITECTURE.md, per 30 s of watching. */
const CPU_TARGET_MS = 300;
/** docs/ARCHITECTURE.md, with --cgroup. */
const CGROUP_CPU_TARGET_MS = 50;
const RSS_TARGET_MB = 60;
/** After the tree is complete, before the window: start-up work (Node's boot, the first compiles) is not
 * the cost of watching. */
const SETTLE_MS = 1000;

interface Watcher {
  /** The process whose CPU and RSS count. */
  pid: number;
  /** The root of the watched tree's parent: the tree is complete once it has PROCESSES descendants. */
  treeParent: number;
  stop(): Promise<void>;
}

interface Cost {
  cpuMs: number;
  rssMb: number;
  /** CPU ms of each second of the window. */
  perSecond: number[];
}

/** The processes below `root` (treePids lists the root first, and nothing once it is gone). */
const descendants = (root: number): number => Math.max(0, treePids(root).length - 1);

async function measure(start: () => Watcher | Promise<Watcher>, seconds: number): Promise<Cost> {
  const watcher = await start();
  try {
    const deadline = Date.now() + 15_000;
    while (descendants(watcher.treeParent) < PROCESSES) {
      if (Date.now() > deadline) throw new Error(`the tree did not reach ${PROCESSES} processes`);
      await sleep(20);
    }
    await sleep(SETTLE_MS);
    const before = cpuMs(watcher.pid);
    const perSecond: number[] = [];
    let last = threadsCpuMs(watcher.pid);
    const started = Date.now();
    for (let second = 1; second <= seconds; second++) {
      await sleep(started + second * 1000 - Date.now());
      const now = threadsCpuMs(watcher.pid);
      perSecond.push(now - last);
      last = now;
    }
    const cost = { cpuMs: cpuMs(watcher.pid) - before, rssMb: rssMb(watcher.pid), perSecond };
    const seen = descendants(watcher.treeParent);
    if (seen < PROCESSES) throw new Error(`only ${seen} processes of the tree left at the end`);
    return cost;
  } finally {
    await watcher.stop();
  }
}

const stopped = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('close', () => resolve())));

function floorWatcher(tree: string): Watcher {
  const floor = spawn(buildC('overrun-floor'), ['watch', String(INTERVAL_MS), CAP, tree, String(PROCESSES)], { stdio: 'ignore' });
  return {
    pid: floor.pid as number,
    treeParent: floor.pid as number,
    stop: async () => {
      floor.kill('SIGTERM');
      await stopped(floor);
    },
  };
}

/** angel watching, with `flags` (--cgroup); with `metrics`, serving --metrics too, and with `scrapeMs` scraped
 * that often from here. */
async function angelWatcher(tree: string, flags: readonly string[] = [], metrics: { scrapeMs: number | null } | null = null): Promise<Watcher> {
  const extra = [...flags, ...(metrics ? ['--metrics', '127.0.0.1:0'] : [])];
  const angel = startAngel([...extra, '--max-mem', CAP, '--sample-interval', String(INTERVAL_MS), '--', tree, String(PROCESSES)], { quiet: true });
  await angel.until(() => angel.count('ready') > 0 && (!metrics || angel.count('listening') > 0), 10_000);
  let scraper: NodeJS.Timeout | null = null;
  if (metrics?.scrapeMs) {
    const address = String(angel.events.find((event) => event.event === 'listening')?.address);
    const [host, port] = address.split(':');
    const scrape = (): void => {
      get({ host, port: Number(port), path: '/metrics' }, (response) => response.resume()).on('error', () => {});
    };
    scrape();
    scraper = setInterval(scrape, metrics.scrapeMs);
  }
  return {
    pid: angel.process.pid as number,
    treeParent: angel.process.pid as number,
    stop: async () => {
      if (scraper) clearInterval(scraper);
      angel.process.kill('SIGTERM');
      await angel.exited;
    },
  };
}

function pm2Watcher(tree: string): Watcher {
  const pm2 = new Pm2Daemon({ PM2_WORKER_INTERVAL: String(INTERVAL_MS) });
  try {
    pm2.start({
      name: 'tree', script: tree, args: [String(PROCESSES)], interpreter: 'none', exec_mode: 'fork', autorestart: true,
      max_memory_restart: '10G', out_file: '/dev/null', error_file: '/dev/null',
    });
  } catch (error) {
    pm2.kill();
    throw error;
  }
  return { pid: pm2.pid, treeParent: pm2.pid, stop: async () => pm2.kill() };
}

export const watchBenchmark: Benchmark = {
  name: 'watch',
  async run({ quick }) {
    const seconds = quick ? 10 : 30;
    const scale = 30 / seconds;
    const tree = buildC('tree');
    const watchers: Array<[string, () => Watcher | Promise<Watcher>]> = [
      [`C sampler (overrun-floor watch), every ${INTERVAL_MS} ms`, () => floorWatcher(tree)],
      [`angel --max-mem 10G --sample-interval ${INTERVAL_MS}`, () => angelWatcher(tree)],
      ['the same with --metrics, not scraped', () => angelWatcher(tree, [], { scrapeMs: null })],
      ['the same with --metrics, scraped every second', () => angelWatcher(tree, [], { scrapeMs: 1000 })],
      [`angel --cgroup --max-mem 10G --sample-interval ${INTERVAL_MS}`, () => angelWatcher(tree, ['--cgroup'])],
      [`PM2 ${pm2Version()} daemon, max_memory_restart 10G, PM2_WORKER_INTERVAL=${INTERVAL_MS}`, () => pm2Watcher(tree)],
    ];
    const costs: Array<Cost | Error> = [];
    for (const [, start] of watchers) costs.push(await measure(start, seconds).catch((error: Error) => error));

    const floor = costs[0] ?? new Error("no floor");
    const floorCpu = floor instanceof Error ? NaN : floor.cpuMs * scale;
    const rows: Row[] = watchers.map(([name], index) => {
      const cost = costs[index] as Cost | Error;
      if (cost instanceof Error) return errorRow(name, cost);
      const cpu = cost.cpuMs * scale;
      const row: Row = {
        name,
        summary: summarize(cost.perSecond),
        values: {
          'CPU ms per 30 s': cpu.toFixed(0),
          'x floor (CPU)': Number.isNaN(floorCpu) || floorCpu === 0 ? '-' : `${(cpu / floorCpu).toFixed(2)}x`,
          'RSS MB': cost.rssMb.toFixed(1),
        },
      };
      if (index >= 1 && index <= 3) {
        row.target = `CPU < ${CPU_TARGET_MS}: ${verdict(cpu < CPU_TARGET_MS)}; RSS < ${RSS_TARGET_MB}: ${verdict(cost.rssMb < RSS_TARGET_MB)}`;
      }
      if (index === 4) row.target = `CPU < ${CGROUP_CPU_TARGET_MS}: ${verdict(cpu < CGROUP_CPU_TARGET_MS)}`;
      return row;
    });
    return {
      title: `cost of watching a ${PROCESSES}-process tree every ${INTERVAL_MS} ms, ${seconds} s window per row`,
      unit: 'CPU ms per s',
      floor: watchers[0]?.[0] ?? '',
      rows,
      notes: [
        `Targets (docs/ARCHITECTURE.md): angel under ${CPU_TARGET_MS} ms of CPU per 30 s of watching (under 1% of a core) and under ` +
          `${RSS_TARGET_MB} MB of RSS. The samples are the CPU time of each second of the window (all the watcher's ` +
          'threads, from their schedstat); the CPU per 30 s beside them is the whole window from /proc/<pid>/stat. ' +
          `The tree is tree.c: a process that forks ${PROCESSES - 1} children that sleep. Each ` +
          `watcher runs alone; its window starts ${SETTLE_MS} ms after the tree is complete. CPU is utime + stime of ` +
          `all the watcher's threads (/proc/<pid>/stat, ${CPU_RESOLUTION_MS} ms ticks${quick ? ', scaled from the shorter window' : ''}), ` +
          'not its children\'s; RSS is VmRSS at the end. The C sampler walks the tree as angel does, with its /proc files ' +
          "kept open; PM2's daemon reads only the app's own pid (pidusage), not its tree, and also collects host metrics " +
          'at the same interval. ' +
          "angel --cgroup is told by the kernel when the cap is passed, and reads its cgroup's usage, memory.stat and " +
          'cgroup.procs once a second instead of walking the tree every 100 ms (the fallback beside the notices, and the peak ' +
          `figure); its target (docs/ARCHITECTURE.md) is under ${CGROUP_CPU_TARGET_MS} ms per 30 s. ` +
          'The --metrics rows are the cost of prom-client\'s registry (its default metrics keep an ' +
          'event-loop delay histogram running) and of a scrape (GET /metrics from the benchmark process, every second).',
      ],
    };
  },
};
