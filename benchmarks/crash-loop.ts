// A long crash loop: does a restart cost more, or angel hold more memory, the longer the loop has run?
// angel restarts a child that exits 1 at once, 50,000 times with no backoff, inside one restart window
// (60 s, and max-restarts far above the count, so it never gives up): whatever angel keeps per restart in the
// window would show as a slower restart and a larger RSS at the end than at the start. Its own figure,
// restartLatencyMs, is the ruler: the first 1,000 restarts are the floor the last 1,000 are held to. The same
// loop with a 1 s window, whose history holds only the last second's restarts, is the control for the RSS:
// Node's heap grows with the allocation rate of any such loop, whatever angel keeps.
import { startAngel } from './lib/angel.js';
import { buildC } from './lib/compile.js';
import { rssMb } from './lib/proc.js';
import { summarize } from '../src/core/stats.js';
import { ratioText } from './lib/stats.js';
import { fmt, msText, verdict, type Row } from './lib/table.js';
import type { Benchmark } from './lib/benchmark.js';
import { TARGETS } from './lib/targets.js';

const SLICE = 1000;
const LATENCY_TARGET = TARGETS.crashLoopLatency;
const RSS_TARGET = TARGETS.crashLoopRss;
const RSS_SLACK_MB = TARGETS.crashLoopRssSlackMb;
const RSS_EVERY_MS = 1000;

interface Loop {
  /** restartLatencyMs of each restart, in order. */
  latencies: number[];
  /** After the first SLICE restarts: angel's boot and first compiles are not the loop's cost. */
  rssStartMb: number;
  rssEndMb: number;
  /** The largest of the per-second samples and the end. */
  rssPeakMb: number;
  seconds: number;
}

async function crashLoop(child: string, restarts: number, windowSeconds: number): Promise<Loop> {
  const args = ['--max-restart-delay', '0', '--max-restarts', String(restarts * 10), '--restart-window', String(windowSeconds), '--', child, '/dev/null'];
  const angel = startAngel(args, { quiet: true });
  const pid = angel.process.pid as number;
  const rss: number[] = [];
  const sampler = setInterval(() => {
    try {
      rss.push(rssMb(pid));
    } catch {} // angel ended meanwhile: angel.until says why
  }, RSS_EVERY_MS);
  const started = Date.now();
  let rssStartMb: number;
  try {
    await angel.until(() => angel.count('restart') >= SLICE, 60_000);
    rssStartMb = rssMb(pid);
    await angel.until(() => angel.count('restart') >= restarts, 20 * 60_000);
    rss.push(rssMb(pid));
  } finally {
    clearInterval(sampler);
    angel.process.kill('SIGTERM');
    await angel.exited;
  }
  const latencies = angel.events.filter((event) => event.event === 'restart').map((event) => event.restartLatencyMs as number);
  return {
    latencies: latencies.slice(0, restarts),
    rssStartMb,
    rssEndMb: rss.at(-1) as number,
    rssPeakMb: Math.max(...rss),
    seconds: (Date.now() - started) / 1000,
  };
}

const count = (n: number): string => n.toLocaleString('en');
const change = (to: number, from: number): string => `${(to / from).toFixed(2)}x (${to >= from ? '+' : ''}${(to - from).toFixed(1)} MB)`;
const flat = (to: number, from: number): boolean => to <= from * RSS_TARGET || to <= from + RSS_SLACK_MB;

export const crashLoopBenchmark: Benchmark = {
  name: 'crash-loop',
  async run({ quick }) {
    const restarts = quick ? 5000 : 50_000;
    // restart-child notes its start and end in a log and exits 1; with /dev/null as the log it is just a
    // static program that dies at once
    const child = buildC('restart-child', { static: true });
    const loop = await crashLoop(child, restarts, 60);
    const control = await crashLoop(child, restarts, 1);
    const first = loop.latencies.slice(0, SLICE);
    const last = loop.latencies.slice(-SLICE);
    const ratio = summarize(last).median / summarize(first).median;
    const latencyTarget = `<= ${LATENCY_TARGET}x the first ${count(SLICE)}: ${verdict(ratio <= LATENCY_TARGET)}, ${ratioText(last, first)}`;
    const rssTarget = `<= ${RSS_TARGET}x or +${RSS_SLACK_MB} MB the control's end: ${verdict(flat(loop.rssEndMb, control.rssEndMb))}, ` +
      `${change(loop.rssEndMb, control.rssEndMb)}; ${change(loop.rssEndMb, loop.rssStartMb)} its start ` +
      `(${verdict(flat(loop.rssEndMb, loop.rssStartMb))})`;

    const names = {
      first: `angel: restartLatencyMs, restarts 1-${count(SLICE)}`,
      last: `angel: restartLatencyMs, restarts ${count(restarts - SLICE + 1)}-${count(restarts)}`,
      rssStart: `angel's RSS after restart ${count(SLICE)}`,
      rssEnd: `angel's RSS after restart ${count(restarts)} (peak of its per-second samples ${fmt(loop.rssPeakMb)} MB)`,
      control: `control, --restart-window 1: angel's RSS after restart ${count(SLICE)} -> ${count(restarts)} (peak ${fmt(control.rssPeakMb)} MB)`,
    };
    const rows: Row[] = [
      { name: names.first, summary: summarize(first) },
      {
        name: names.last,
        summary: summarize(last),
        target: latencyTarget,
      },
      { name: names.rssStart, values: { 'RSS (MB)': fmt(loop.rssStartMb) } },
      {
        name: names.rssEnd,
        values: { 'RSS (MB)': fmt(loop.rssEndMb) },
        target: rssTarget,
      },
      { name: names.control, values: { 'RSS (MB)': `${fmt(control.rssStartMb)} -> ${fmt(control.rssEndMb)}` } },
    ];
    return {
      title: `a long crash loop: ${count(restarts)} restarts of a static C program that exits 1, no backoff, one 60 s restart window`,
      unit: 'ms',
      floor: names.first,
      rows,
      notes: [
        `Targets (benchmarks/lib/targets.ts): a restart costs the same at the end of a long crash loop as at its start (the median of the last ` +
          `${count(SLICE)} restarts within ${LATENCY_TARGET}x of the first ${count(SLICE)}'s), and angel's RSS stays flat: ` +
          `within ${RSS_TARGET}x or +${RSS_SLACK_MB} MB of the control's, the same loop with a 1 s window, whose history holds a ` +
          "second's restarts. Against its own start RSS is not flat even in the control: Node's young generation grows " +
          "with the allocation rate of the loop, whatever angel keeps (pinned with node's --max-semi-space-size=1 the control " +
          'stays nearly flat, and unpinned it levels off after tens of thousands of restarts), so the start is given beside it, ' +
          `its verdict in brackets, but the control is what tells what angel keeps. angel runs as \`angel --max-restart-delay 0 --max-restarts ${restarts * 10} --restart-window 60 -- ` +
          `restart-child /dev/null\` until it has restarted ${count(restarts)} times (${loop.seconds.toFixed(0)} s here; the ` +
          `control ${control.seconds.toFixed(0)} s), its event log to a file read every 50 ms; RSS is VmRSS from /proc, after ` +
          `restart ${count(SLICE)}, every second, and at the end. The latency rows are angel's own clock (its exit callback -> exec ` +
          'confirmed), as in the restart table; the first slice is the floor, so the ratio is the growth.',
      ],
      headline: [
        {
          measure: `a crash loop of ${count(restarts)} restarts in one window: restartLatencyMs (angel's clock, its exit callback -> the child's execve), last ${count(SLICE)} against the first ${count(SLICE)}`,
          angel: `${msText(summarize(last).median)} against ${msText(summarize(first).median)}`,
          floor: '',
          peers: '',
          target: latencyTarget,
        },
        {
          measure: `the same loop: angel's RSS after restart ${count(restarts)}`,
          angel: `${fmt(loop.rssEndMb)} MB (${fmt(loop.rssStartMb)} MB after restart ${count(SLICE)})`,
          floor: `control (--restart-window 1) ${fmt(control.rssEndMb)} MB`,
          peers: '',
          target: rssTarget,
        },
      ],
    };
  },
};
