// A service that ran: the child lives 1.1 s, then exits 1, again and again. angel with its default restart
// policy (--min-uptime 1 s) restarts such a child at once, as runit and s6 do, where a crash loop backs off; the
// figure is held to the fork/exec/wait loop restarting the same child, the floor the crash-loop target uses.
import { buildC } from './lib/compile.js';
import { inRounds } from './lib/interleave.js';
import { summarize } from '../src/core/stats.js';
import { errorRow, msText, verdict, type Row } from './lib/table.js';
import type { Benchmark } from './lib/benchmark.js';
import { TARGETS } from './lib/targets.js';
import { angelRun, floorRun } from './restart.js';

const LIFE_MS = 1100;
const TARGET = TARGETS.ranVsForkLoop;

export const ranBenchmark: Benchmark = {
  name: 'ran',
  async run({ quick }) {
    const cycles = quick ? 3 : 10;
    // rotating rounds (lib/interleave.ts), the two rows' order swapped each round: ten restarts of 1.1 s are a short sample, and the
    // host's pace drifts across a run (the floor's median moved 0.75-0.87 ms between three runs of 10)
    const rounds = quick ? 1 : 3;
    const child = buildC('restart-child', { static: true });
    const floorGaps: number[] = [];
    const angelGaps: number[] = [];
    let firstDelayMs: unknown;
    const failed: { floor?: unknown; angel?: unknown } = {};
    const who = ['floor', 'angel'] as const;
    await inRounds(who.length, rounds, cycles * rounds, async (index, share) => {
      const name = who[index] as (typeof who)[number];
      if (failed[name] !== undefined) return;
      try {
        if (name === 'floor') {
          floorGaps.push(...floorRun(child, share, true, LIFE_MS).child);
        } else {
          // angel as a user runs it: no flags but the give-up turned off for the length of the run
          const angel = await angelRun(child, share, ['--max-restarts', '100000'], LIFE_MS);
          angelGaps.push(...angel.child);
          firstDelayMs ??= angel.firstDelayMs;
        }
      } catch (error) {
        failed[name] = error;
      }
    });
    const rows: Row[] = [];
    let floorMedian = NaN;
    if (failed.floor !== undefined) {
      rows.push(errorRow('C fork/exec/wait loop (floor)', failed.floor));
    } else {
      floorMedian = summarize(floorGaps).median;
      rows.push({ name: 'C fork/exec/wait loop, the child\'s clock (floor)', summary: summarize(floorGaps) });
    }
    if (failed.angel !== undefined) {
      rows.push(errorRow('angel, default restart policy', failed.angel));
    } else {
      const median = summarize(angelGaps).median;
      rows.push({
        name: 'angel, default restart policy, the child\'s clock',
        summary: summarize(angelGaps),
        values: { 'restart delayMs (first)': String(firstDelayMs) },
        target: `<= ${TARGET}x the floor: ${verdict(median <= TARGET * floorMedian)}, ${(median / floorMedian).toFixed(2)}x`,
      });
    }
    const angelRow = rows[1];
    return {
      title: `a service that ran: the child lives ${LIFE_MS} ms, exits 1, is restarted; ${cycles * rounds} restarts per row${rounds > 1 ? `, in ${rounds} rotating rounds of ${cycles},` : ''} after 10 warm-up${rounds > 1 ? ' each' : ''}`,
      unit: 'ms',
      floor: 'C fork/exec/wait loop, the child\'s clock (floor)',
      rows,
      notes: [
        `Target (benchmarks/lib/targets.ts): angel's default policy within ${TARGET}x of the fork/exec/wait loop. The child's clock: ` +
          'restart-child notes its exit and its next start (CLOCK_MONOTONIC), so the figure is death to the next main(), the same ' +
          'ruler for both rows. With --min-uptime 1000 (the default) a child that lived 1.1 s is not a crash loop: no backoff, no ' +
          'count toward the give-up.',
      ],
      headline: [
        {
          measure: `a service that ran ${LIFE_MS / 1000} s: its exit -> the next child's main() (the child's clock)`,
          angel: msText(angelRow?.summary?.median),
          floor: `${msText(floorMedian)}, fork/exec/wait loop`,
          peers: '',
          target: angelRow?.target ?? angelRow?.error ?? '',
        },
      ],
    };
  },
};
