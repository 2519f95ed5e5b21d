// A long crash loop: does a restart cost more, or angel hold more memory, the longer the loop has run?
// angel restarts a child that exits 1 at once, 50,000 times with no backoff, all inside one restart window
// (60 s, and max-restarts far above the count, so it never gives up): whatever angel keeps per restart in the
// window would show as a slower restart and a larger RSS at the end than at the start. Its own figure,
// restartLatencyMs, is the ruler: the first 1,000 restarts are the floor the last 1,000 are held to.
import { startAngel } from './lib/angel.js';
import { buildC } from './lib/compile.js';
import { rssMb } from './lib/proc.js';
import { ratioText, summarize } from './lib/stats.js';
import { fmt, verdict, type Row } from './lib/table.js';
import type { Benchmark } from './run.js';

const SLICE = 1000;
const LATENCY_TARGET = 1.2;
const RSS_TARGET = 1.2;
const RSS_SLACK_MB = 10;
const RSS_EVERY_MS = 1000;

export const crashLoopBenchmark: Benchmark = {
  name: 'crash-loop',
  async run({ quick }) {
    const restarts = quick ? 5000 : 50_000;
    // restart-child notes its start and end in a log and exits 1; with /dev/null as the log it is just a
    // static program that dies at once
    const child = buildC('restart-child', { static: true });
    const args = ['--max-restart-delay', '0', '--max-restarts', String(restarts * 10), '--restart-window', '60', '--', child, '/dev/null'];
    const angel = startAngel(args, { quiet: true });
    const pid = angel.process.pid as number;
    const rss: number[] = [];
    let rssStart = NaN;
    const sampler = setInterval(() => {
      try {
        rss.push(rssMb(pid));
      } catch {} // angel ended meanwhile: angel.until says why
    }, RSS_EVERY_MS);
    const started = Date.now();
    let seconds: number;
    try {
      // the start is taken once the first slice is done: angel's boot and first compiles are not the loop's cost
      await angel.until(() => angel.count('restart') >= SLICE, 60_000);
      rssStart = rssMb(pid);
      await angel.until(() => angel.count('restart') >= restarts, 20 * 60_000);
      rss.push(rssMb(pid));
      seconds = (Date.now() - started) / 1000;
    } finally {
      clearInterval(sampler);
      angel.process.kill('SIGTERM');
      await angel.exited;
    }
    const latencies = angel.events.filter((event) => event.event === 'restart').map((event) => event.restartLatencyMs as number);
    const first = latencies.slice(0, SLICE);
    const last = latencies.slice(restarts - SLICE, restarts);
    const rssEnd = rss.at(-1) as number;
    const rssPeak = Math.max(...rss);
    const ratio = summarize(last).median / summarize(first).median;

    const names = {
      first: `angel: restartLatencyMs, restarts 1-${SLICE.toLocaleString('en')}`,
      last: `angel: restartLatencyMs, restarts ${(restarts - SLICE + 1).toLocaleString('en')}-${restarts.toLocaleString('en')}`,
      rssStart: `angel's RSS after restart ${SLICE.toLocaleString('en')}`,
      rssEnd: `angel's RSS after restart ${restarts.toLocaleString('en')} (peak of its per-second samples ${fmt(rssPeak)} MB)`,
    };
    const rssMet = rssEnd <= rssStart * RSS_TARGET || rssEnd <= rssStart + RSS_SLACK_MB;
    const rssChange = `${(rssEnd / rssStart).toFixed(2)}x (${rssEnd >= rssStart ? '+' : ''}${(rssEnd - rssStart).toFixed(1)} MB)`;
    const rows: Row[] = [
      { name: names.first, summary: summarize(first) },
      {
        name: names.last,
        summary: summarize(last),
        target: `<= ${LATENCY_TARGET}x the first ${SLICE.toLocaleString('en')}: ${verdict(ratio <= LATENCY_TARGET)}, ${ratioText(last, first)}`,
      },
      { name: names.rssStart, values: { 'RSS (MB)': fmt(rssStart) } },
      {
        name: names.rssEnd,
        values: { 'RSS (MB)': fmt(rssEnd) },
        target: `<= ${RSS_TARGET}x or +${RSS_SLACK_MB} MB the start: ${verdict(rssMet)}, ${rssChange}`,
      },
    ];
    return {
      title: `a long crash loop: ${restarts.toLocaleString('en')} restarts of a static C program that exits 1, no backoff, one 60 s restart window`,
      unit: 'ms',
      floor: names.first,
      rows,
      notes: [
        `Targets: a restart costs the same at the end of a long crash loop as at its start (the median of the last ` +
          `${SLICE.toLocaleString('en')} restarts within ${LATENCY_TARGET}x of the first ${SLICE.toLocaleString('en')}'s), and angel's RSS stays ` +
          `flat (within ${RSS_TARGET}x or +${RSS_SLACK_MB} MB of its RSS after the first ${SLICE.toLocaleString('en')} restarts). angel runs as ` +
          `\`angel --max-restart-delay 0 --max-restarts ${restarts * 10} --restart-window 60 -- restart-child /dev/null\` until ` +
          `it has restarted ${restarts.toLocaleString('en')} times (${seconds.toFixed(0)} s here), its event log to a file read every 50 ms; RSS is ` +
          `VmRSS from /proc, sampled every second. The rows are angel's own clock (its exit callback -> exec confirmed), ` +
          'as in the restart table; the first slice is the floor, so the ratio is the growth.',
      ],
    };
  },
};
