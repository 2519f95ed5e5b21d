// The cost of watching: CPU time, wake-ups and RSS of a watcher of a 20-process tree, measured from outside,
// the same way for each: the time on a CPU of all its threads (their schedstat: the task-clock perf counts) for
// each second of the window, summed over the window, their voluntary context switches over it, and VmRSS at the
// end. The tree sampled every 100 ms (the C floor, angel's default, PM2), and angel where the kernel's notices
// and a once-a-second check take the place of the sampling: --cgroup, and the container mode (--max-mem 90% in
// a cgroup with a limit). One watcher at a time, nothing else running.
import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { fileURLToPath } from 'node:url';
import { startAngel } from './lib/angel.js';
import { buildC, launcherFlags, sleep } from './lib/compile.js';
import { profiledRun } from './lib/profile.js';
import { Pm2Daemon, pm2Version } from './lib/pm2.js';
import { rssMb, threadsCpuMs, wakeUps } from './lib/proc.js';
import { treePids } from '../src/kernel/proctree.js';
import { summarize } from '../src/core/stats.js';
import { childCgroup, inCgroup, removeChildCgroup } from '../support/cgroup.js';
import { errorRow, verdict, type Row } from './lib/table.js';
import type { Benchmark } from './lib/benchmark.js';
import { TARGETS } from './lib/targets.js';

const PROCESSES = 20;
const INTERVAL_MS = 100;
const CAP = String(10 * 2 ** 30);
/** The container's limit in the container mode's row: far above the tree, so the pace is its slowest. */
const CONTAINER_LIMIT = 2 ** 30;
const RSS_TARGET_MB = TARGETS.watchRssMb;
/** The window of a profiled run (a row that missed its CPU target). */
const PROFILE_SECONDS = 10;
/** After the tree is complete, before the first window: the watcher's own start is not the cost of watching. */
const SETTLE_MS = 1000;

interface Watcher {
  /** The process whose CPU and RSS count. */
  pid: number;
  /** The root of the watched tree's parent: the tree is complete once it has PROCESSES descendants. */
  treeParent: number;
  stop(): Promise<void>;
}

/** What a watcher cost over one window. */
interface Window {
  cpuMs: number;
  /** Of it, the main thread's. */
  mainMs: number;
  wakeUps: number;
  /** CPU ms of each second of the window. */
  perSecond: number[];
}

/** Two windows back to back: the first from SETTLE_MS after the tree is complete, then the steady state, judged:
 * V8 tiers a Node watcher's code up through its first half minute (TurboFan compiling on its worker threads; in a
 * trace of angel's default run the last function was optimized at 28 s, and the window after it cost a quarter
 * less), a cost paid once per start, as the launch is, not for each half minute of watching. */
interface Cost {
  first: Window;
  steady: Window;
  rssMb: number;
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
    const started = Date.now();
    let last = threadsCpuMs(watcher.pid);
    let second = 0;
    const window = async (): Promise<Window> => {
      const wokenBefore = wakeUps(watcher.pid);
      const mainBefore = threadsCpuMs(watcher.pid, true);
      const perSecond: number[] = [];
      for (let i = 0; i < seconds; i++) {
        second += 1; // seconds since `started`, across both windows
        await sleep(started + second * 1000 - Date.now());
        const now = threadsCpuMs(watcher.pid);
        perSecond.push(now - last);
        last = now;
      }
      return {
        cpuMs: perSecond.reduce((sum, ms) => sum + ms, 0),
        mainMs: threadsCpuMs(watcher.pid, true) - mainBefore,
        wakeUps: wakeUps(watcher.pid) - wokenBefore,
        perSecond,
      };
    };
    const first = await window();
    const cost = { first, steady: await window(), rssMb: rssMb(watcher.pid) };
    const seen = descendants(watcher.treeParent);
    if (seen < PROCESSES) throw new Error(`only ${seen} processes of the tree left at the end`);
    return cost;
  } finally {
    await watcher.stop();
  }
}

const stopped = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('close', () => resolve())));

/** A watcher that is the tree's parent, stopped with SIGTERM; `after` runs once it has ended. */
function parentWatcher(argv: readonly string[], after?: () => Promise<void>): Watcher {
  const watcher = spawn(argv[0] as string, argv.slice(1), { stdio: 'ignore' });
  return {
    pid: watcher.pid as number,
    treeParent: watcher.pid as number,
    stop: async () => {
      watcher.kill('SIGTERM');
      await stopped(watcher);
      await after?.();
    },
  };
}

const floorWatcher = (tree: string): Watcher => parentWatcher([buildC('overrun-floor'), 'watch', String(INTERVAL_MS), CAP, tree, String(PROCESSES)]);

/** The floor of a Node watcher (node-floor.ts), with bin/angel's Node flags: woken once a second, idle or reading
 * what the check with --cgroup reads, of a cgroup of the benchmark's own that the tree runs in; or every
 * INTERVAL_MS woken and idle, reading the tree's /proc files, or sampling the tree with angel's reader. */
function nodeFloorWatcher(tree: string, does: 'idle' | 'cgroup' | 'wake' | 'reads' | 'tree'): Watcher {
  const cgroup = does === 'cgroup' ? childCgroup('angel-bench', CONTAINER_LIMIT) : undefined;
  const script = fileURLToPath(new URL('node-floor.js', import.meta.url));
  const operands = cgroup ? ['cgroup', cgroup] : does === 'idle' ? ['idle'] : [does, String(INTERVAL_MS)];
  const command = [process.execPath, ...launcherFlags(), script, ...operands, '--', tree, String(PROCESSES)];
  return cgroup ? parentWatcher(inCgroup(cgroup, command), () => removeChildCgroup(cgroup)) : parentWatcher(command);
}

interface AngelSetup {
  /** Flags before `--` (the cap: --max-mem 10G unless given). */
  flags?: readonly string[];
  /** Serving --metrics too, and scraped that often from here (null: never). */
  metrics?: { scrapeMs: number | null };
  /** Started in a cgroup of its own with this limit (a container's). */
  containerLimit?: number;
  /** Node flags of the benchmark's own (`--cpu-prof`, its profile written when it ends). */
  nodeFlags?: readonly string[];
}

async function angelWatcher(tree: string, setup: AngelSetup = {}): Promise<Watcher> {
  const { metrics } = setup;
  const cap = setup.flags?.includes('--max-mem') ? [] : ['--max-mem', CAP];
  const extra = [...(setup.flags ?? []), ...cap, ...(metrics ? ['--metrics', '127.0.0.1:0'] : [])];
  const cgroup = setup.containerLimit === undefined ? undefined : childCgroup('angel-bench', setup.containerLimit);
  const angel = startAngel([...extra, '--sample-interval', String(INTERVAL_MS), '--', tree, String(PROCESSES)], { quiet: true, nodeFlags: setup.nodeFlags ?? [], ...(cgroup && { cgroup }) });
  try {
    await angel.until(() => angel.count('ready') > 0 && (!metrics || angel.count('listening') > 0), 10_000);
  } catch (error) {
    angel.process.kill('SIGKILL');
    await angel.exited;
    if (cgroup) await removeChildCgroup(cgroup);
    throw error;
  }
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
      if (cgroup) await removeChildCgroup(cgroup);
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

/** Each row's name in the headline. */
type RowKey = 'c' | 'nodeWake' | 'nodeReads' | 'nodeReader' | 'angel' | 'metrics' | 'scraped' | 'cgroup' | 'nodeIdle' | 'nodeCheck' | 'container' | 'pm2';

interface Judged {
  cpuMs: number;
  rssMb?: number;
  /** Which target it is held to. */
  what: string;
}

export const watchBenchmark: Benchmark = {
  name: 'watch',
  async run({ quick }) {
    const seconds = quick ? 10 : 30;
    const scale = 30 / seconds;
    const tree = buildC('tree');
    const tight = { cpuMs: TARGETS.treeWatchCpuMs, rssMb: RSS_TARGET_MB, what: 'the tree every 100 ms' };
    const feature = { cpuMs: TARGETS.featureWatchCpuMs, rssMb: RSS_TARGET_MB, what: 'a feature beside the tree' };
    const idle = { cpuMs: TARGETS.eventWatchCpuMs, what: "the kernel's notices and a check a second" };
    type WatcherRow = { key: RowKey; name: string; start: () => Watcher | Promise<Watcher>; setup?: AngelSetup; target?: Judged };
    const angelRow = (key: RowKey, name: string, setup: AngelSetup, target: Judged): WatcherRow => ({ key, name, setup, start: () => angelWatcher(tree, setup), target });
    const watchers: WatcherRow[] = [
      { key: 'c', name: `C sampler (overrun-floor watch), every ${INTERVAL_MS} ms`, start: () => floorWatcher(tree) },
      { key: 'nodeWake', name: `Node with bin/angel's flags, a ${INTERVAL_MS} ms timer that does nothing (the floor of a Node process woken at the sampler's pace)`, start: () => nodeFloorWatcher(tree, 'wake') },
      { key: 'nodeReads', name: `the same timer reading the tree's /proc files every ${INTERVAL_MS} ms (each process's statm and children, kept open, read from their start with the addon's pread, and its task directory's link count, as angel's reader reads them), nothing parsed`, start: () => nodeFloorWatcher(tree, 'reads') },
      { key: 'nodeReader', name: `Node with bin/angel's flags, angel's tree reader (kernel/proctree.ts) every ${INTERVAL_MS} ms and nothing else`, start: () => nodeFloorWatcher(tree, 'tree') },
      angelRow('angel', `angel --max-mem 10G --sample-interval ${INTERVAL_MS} (the tree sampled: the default)`, {}, tight),
      angelRow('metrics', 'the same with --metrics, not scraped', { metrics: { scrapeMs: null } }, feature),
      angelRow('scraped', 'the same with --metrics, scraped every second', { metrics: { scrapeMs: 1000 } }, feature),
      angelRow('cgroup', `angel --cgroup --max-mem 10G --sample-interval ${INTERVAL_MS}`, { flags: ['--cgroup'] }, idle),
      { key: 'nodeIdle', name: "Node with bin/angel's flags, a 1 s timer that does nothing (the floor of a Node process woken once a second)", start: () => nodeFloorWatcher(tree, 'idle') },
      { key: 'nodeCheck', name: 'the same timer reading a cgroup\'s usage, memory.stat and cgroup.procs (the reads of the check a second)', start: () => nodeFloorWatcher(tree, 'cgroup') },
      angelRow('container', `angel --max-mem 90% in a cgroup limited to ${CONTAINER_LIMIT / 2 ** 20} MiB (the container mode)`, { flags: ['--max-mem', '90%'], containerLimit: CONTAINER_LIMIT }, idle),
      { key: 'pm2', name: `PM2 ${pm2Version()} daemon, max_memory_restart 10G, PM2_WORKER_INTERVAL=${INTERVAL_MS}`, start: () => pm2Watcher(tree) },
    ];
    const costs: Array<Cost | Error> = [];
    for (const { start } of watchers) costs.push(await measure(start, seconds).catch((error: Error) => error));

    const floor = costs[0] ?? new Error('no floor');
    const floorCpu = floor instanceof Error ? NaN : floor.steady.cpuMs * scale;
    const rows: Row[] = watchers.map(({ name, target }, index) => {
      const cost = costs[index] as Cost | Error;
      if (cost instanceof Error) return errorRow(name, cost);
      const cpu = cost.steady.cpuMs * scale;
      const row: Row = {
        name,
        summary: summarize(cost.steady.perSecond),
        values: {
          'CPU ms per 30 s': cpu.toFixed(1),
          'of it the main thread': (cost.steady.mainMs * scale).toFixed(1),
          'x floor (CPU)': Number.isNaN(floorCpu) || floorCpu === 0 ? '-' : `${(cpu / floorCpu).toFixed(2)}x`,
          'wake-ups per 30 s': (cost.steady.wakeUps * scale).toFixed(0),
          'RSS MB': cost.rssMb.toFixed(1),
          'the first 30 s: CPU ms': (cost.first.cpuMs * scale).toFixed(1),
        },
      };
      if (target) {
        const rss = target.rssMb === undefined ? '' : `; RSS < ${target.rssMb}: ${verdict(cost.rssMb < target.rssMb)}`;
        row.target = `CPU < ${target.cpuMs}: ${verdict(cpu < target.cpuMs)}${rss}`;
      }
      return row;
    });
    const indexOf = (key: RowKey): number => watchers.findIndex((watcher) => watcher.key === key);
    const figures = (key: RowKey): string => {
      const row = rows[indexOf(key)]!;
      return row.error !== undefined ? `error: ${row.error}` : `${row.values?.['CPU ms per 30 s']} ms of CPU (the first 30 s: ${row.values?.['the first 30 s: CPU ms']}), ${row.values?.['wake-ups per 30 s']} wake-ups, ${row.values?.['RSS MB']} MB`;
    };
    const verdictOf = (key: RowKey): string => rows[indexOf(key)]?.target ?? `error: ${rows[indexOf(key)]?.error}`;
    // where the CPU goes, for each angel row that missed its target: the same watcher again, under --cpu-prof
    const profiles: string[] = [];
    for (const [index, { name, setup }] of watchers.entries()) {
      if (!setup || !/CPU < \d+: NOT met/.test(rows[index]?.target ?? '')) continue;
      const profile = await profiledRun(async (nodeFlags) => void (await measure(() => angelWatcher(tree, { ...setup, nodeFlags }), PROFILE_SECONDS)), 6, PROFILE_SECONDS * 1000);
      profiles.push(`${name}: ${profile}`);
    }
    return {
      title: `cost of watching a ${PROCESSES}-process tree, the steady ${seconds} s window of each row after its first${quick ? ' (scaled to 30 s)' : ''}`,
      unit: 'CPU ms per s',
      floor: watchers[0]?.name ?? '',
      rows,
      notes: [
        `Targets (benchmarks/lib/targets.ts): per 30 s of watching, the tree sampled every ${INTERVAL_MS} ms under ${TARGETS.treeWatchCpuMs} ms of CPU, ` +
          `with --metrics under ${TARGETS.featureWatchCpuMs} ms (a feature asked for), and where the kernel's notices and a ` +
          `check a second replace the sampling (--cgroup, the container mode) under ${TARGETS.eventWatchCpuMs} ms; angel under ${RSS_TARGET_MB} MB of ` +
          'RSS where it samples the tree. CPU is the time on a CPU of all the watcher\'s threads (/proc/<pid>/task/<tid>/schedstat, ' +
          "ns: the task-clock perf counts), read at each second of the window (the samples, in ms per s) and summed over it" +
          `${quick ? ', scaled from the shorter window' : ''}; not its children's; the main thread's part beside it (the rest is ` +
          "V8's and libuv's threads). Wake-ups are the voluntary context switches of " +
          'its threads over the window (each a sleep the thread was woken from). RSS is VmRSS at the end. ' +
          `The tree is tree.c: a process that forks ${PROCESSES - 1} children that sleep. Each watcher runs alone, for two windows ` +
          `of ${seconds} s: the first starts ${SETTLE_MS} ms after the tree is complete, and holds a Node watcher's tiering up ` +
          "(V8 optimizing the watch's functions on its worker threads, once per start: in a trace of angel's default run the last " +
          'was optimized at 28 s); the second, right after it, is the steady state: its figures are the row\'s and the ones ' +
          "judged, and the first window's CPU is beside them. The C sampler walks the tree as angel does, with its /proc files " +
          "kept open (statm for the RSS, and the main thread's children; angel also counts each process's threads, by " +
          "the link count of its task directory: a child forked by a thread other than the first is in that thread's children file). Three Node rows take a Node sampler apart, each " +
          `a Node process with bin/angel's flags and a ${INTERVAL_MS} ms timer, nothing around it: the timer idle (what Node's ` +
          "wake-ups cost at that pace), the timer reading the files angel's reader reads (each process's statm and children " +
          "file, kept open and read from their start with the addon's pread, one read each, and an fstat of its task directory, nothing parsed: the least a Node " +
          "sampler of this tree does), and angel's own reader (kernel/proctree.ts). PM2's daemon reads only the app's own pid (pidusage), not its tree, and also collects host metrics " +
          'at the same interval. angel --cgroup is told by the kernel when the cap is passed, and reads its cgroup\'s figure ' +
          'once a second (the fallback beside the notices, and the peak figure). In the container mode angel runs in a ' +
          `cgroup of the benchmark's own limited to ${CONTAINER_LIMIT / 2 ** 20} MiB, the tree with it, and reads that cgroup's ` +
          'figure at a pace set by the headroom: once a second this far below the cap. The two Node rows are the floor of ' +
          "those two: a Node process started with bin/angel's flags whose 1 s timer does nothing, and the same timer reading " +
          "what the check reads (its usage and memory.stat kept open, its cgroup.procs opened afresh; of a cgroup of the " +
          "benchmark's own, the tree in it), nothing around it. The --metrics rows are the cost of " +
          "prom-client's registry and of a scrape (GET /metrics from the benchmark process, every second).",
        ...(profiles.length === 0
          ? []
          : [
            `Where the main thread's CPU goes in the rows that missed their target: each watcher again, under \`node --cpu-prof\` (its ` +
              `main thread sampled every ms, which costs CPU of its own: a profile, not a figure), its last ${PROFILE_SECONDS} s, its stop included, ` +
              `of samples by self time and where the code lives: ${profiles.join('; ')}.`,
          ]),
      ],
      headline: [
        {
          measure: `watching a ${PROCESSES}-process tree for 30 s once V8 has tiered up (its second half minute), sampled every ${INTERVAL_MS} ms (schedstat CPU, all threads)`,
          angel: figures('angel'),
          floor: `C sampler ${figures('c')}; Node woken every ${INTERVAL_MS} ms, its timer idle: ${figures('nodeWake')}; ` +
            `reading the tree's files: ${figures('nodeReads')}; with angel's reader: ${figures('nodeReader')}`,
          peers: `PM2 ${figures('pm2')}`,
          target: verdictOf('angel'),
        },
        {
          measure: `the same with --cgroup (the kernel's notices, a check a second)`,
          angel: figures('cgroup'),
          floor: `Node woken once a second, its timer idle: ${figures('nodeIdle')}; reading what the check reads: ${figures('nodeCheck')}`,
          peers: '',
          target: verdictOf('cgroup'),
        },
        {
          measure: 'the same in the container mode (--max-mem 90% of the cgroup\'s limit, read at the headroom\'s pace)',
          angel: figures('container'),
          floor: `as above: ${figures('nodeCheck')}`,
          peers: '',
          target: verdictOf('container'),
        },
      ],
    };
  },
};
