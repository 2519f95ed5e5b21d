// Restart latency over a crash loop: the old child's death -> the new child's exec, with no backoff.
// Two rulers: the child's clock (restart-child notes its exit and its next start; the one the target is held
// to, the only ruler a peer can be held to, and one that also sees the moments before a supervisor notices the
// death), and the supervisor's own (angel's restartLatencyMs, from its exit callback, against C loops timing
// waitpid's return -> exec confirmed). Two C loops: the vfork loop, the least possible (angel's own technique),
// which the target is set against, and the classic fork/exec/wait loop beside it. The loops and angel run in
// rotating rounds.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAngel } from './lib/angel.js';
import { profiledRun } from './lib/profile.js';
import { inRounds } from './lib/interleave.js';
import { buildC, parseSamples, runC, sleep, UNBUNDLED_ANGEL } from './lib/compile.js';
import { Pm2Daemon, pm2Version } from './lib/pm2.js';
import { summarize } from '../src/core/stats.js';
import { ratioText } from './lib/stats.js';
import { errorRow, msText, verdict, type Row } from './lib/table.js';
import type { Benchmark } from './lib/benchmark.js';
import { TARGETS } from './lib/targets.js';

const TARGET = TARGETS.restartVsVforkLoop;
/** Restarts not counted at the start of each run: a fresh process's page faults (a C loop's, angel's first). */
const WARMUP = 10;
/** Restarts of a Node supervisor (angel, PM2) not counted before its figures: V8 compiles the restart path as it
 * runs, and a fresh angel's restarts get faster for thousands of them (the child's clock, medians of one crash
 * loop of bin/angel here: restarts 10-50 0.72 ms, 200-400 0.46, 800-1600 0.38, 1600-3200 0.36, 3200-6400 0.32;
 * the C vfork loop's 0.30-0.32 from its first on). Ten such restarts, as before, made the target row a fresh
 * angel's compile time. The target is a crash loop's steady cost; a fresh angel's first restarts are rows of
 * their own (FRESH). */
const NODE_WARMUP = 4000;
/** A fresh angel's restarts shown as such, by the child's clock: its first FRESH of each run. */
const FRESH = 100;
/** Restarts in the profile of a crash loop (cycleProfile): some 2 s of it, a few thousand samples. */
const PROFILED_RESTARTS = 4000;
/** A crash loop measured as such: no backoff, no give-up. */
const CRASH_LOOP = ['--max-restart-delay', '0', '--max-restarts', '100000'];

/** The child's own view: ms from each generation's exit to the next one's start, from restart-child's log. */
function childGaps(log: string): number[] {
  const lines = readFileSync(log, 'utf8').trim().split('\n').map((line) => line.split(' '));
  const gaps: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const [before, after] = [lines[i - 1], lines[i]];
    if (before?.[0] === 'e' && after?.[0] === 's') gaps.push(Number(BigInt(after[1] ?? 0) - BigInt(before[1] ?? 0)) / 1e6);
  }
  return gaps;
}

const scratch = (name: string): string => {
  const log = join(tmpdir(), `angel-bench-${name}-${process.pid}.log`);
  rmSync(log, { force: true });
  return log;
};

export interface Run {
  /** The supervisor's own figure per restart. */
  own: number[];
  /** angel's own figure for the first WARMUP restarts of a fresh angel. */
  cold?: number[];
  /** The child's figure per restart. */
  child: number[];
  /** The child's figure for the first FRESH restarts of a fresh angel. */
  fresh?: number[];
  firstDelayMs?: unknown;
}

/** The C loop: vfork (the least possible, the floor the target is set against) or, with `forked`, fork and a close-on-exec pipe. */
export function floorRun(child: string, cycles: number, forked: boolean, lifeMs = 0): Run {
  const log = scratch('restart-floor');
  const args = [...(forked ? ['--fork'] : []), String(cycles + WARMUP), child, log, ...(lifeMs > 0 ? [String(lifeMs)] : [])];
  const own = parseSamples(runC(buildC('restart-floor'), args)).slice(WARMUP);
  const gaps = childGaps(log).slice(WARMUP);
  rmSync(log, { force: true });
  return { own, child: gaps };
}

/** angel restarting the child; `flags` default to no backoff and no give-up (a crash loop measured as such). */
export async function angelRun(child: string, cycles: number, flags = CRASH_LOOP, lifeMs = 0, warmup = WARMUP): Promise<Run> {
  const log = scratch('restart-angel');
  const angel = startAngel([...flags, '--', child, log, ...(lifeMs > 0 ? [String(lifeMs)] : [])], { quiet: true });
  const restarts = () => angel.events.filter((event) => event.event === 'restart');
  try {
    // one more: the child of the last restart counted may not have noted its start yet
    await angel.until(() => angel.count('restart') >= cycles + warmup + 1, 60_000);
  } finally {
    angel.process.kill('SIGTERM');
    await angel.exited;
  }
  const own = restarts().map((event) => event.restartLatencyMs as number).slice(warmup, warmup + cycles);
  const all = childGaps(log);
  rmSync(log, { force: true });
  const cold = restarts().map((event) => event.restartLatencyMs as number).slice(0, WARMUP);
  return { own, cold, child: all.slice(warmup, warmup + cycles), fresh: all.slice(0, FRESH), firstDelayMs: restarts()[0]?.delayMs };
}

/** Where a crash-loop cycle goes in angel's process, for a row that missed its target: one more crash loop, angel
 * under `node --cpu-prof` and run from its unbundled modules (the code its bundle holds, each file a place of its
 * own), the profile's window from its warm-up's end to its last restart counted, per restart. */
function cycleProfile(child: string, cycles: number): Promise<string> {
  return profiledRun(async (cpuProf) => {
    const log = scratch('restart-profile');
    const angel = startAngel([...CRASH_LOOP, '--', child, log], { quiet: true, nodeFlags: cpuProf, script: UNBUNDLED_ANGEL });
    try {
      await angel.until(() => angel.count('restart') >= NODE_WARMUP, 60_000);
      const from = angel.count('restart');
      const start = performance.now();
      await angel.until(() => angel.count('restart') >= from + cycles, 60_000);
      return { lastMs: performance.now() - start, per: { count: angel.count('restart') - from, unit: 'restart' } };
    } finally {
      angel.process.kill('SIGTERM');
      await angel.exited;
      rmSync(log, { force: true });
    }
  }, 10);
}

async function pm2Run(child: string, cycles: number): Promise<number[]> {
  const log = scratch('restart-pm2');
  const pm2 = new Pm2Daemon();
  try {
    pm2.start({
      name: 'crash', script: child, args: [log], interpreter: 'none', exec_mode: 'fork',
      autorestart: true, max_restarts: 1_000_000, min_uptime: 0, restart_delay: 0, out_file: '/dev/null', error_file: '/dev/null',
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const gaps = childGaps(log);
      if (gaps.length >= cycles + NODE_WARMUP) return gaps.slice(NODE_WARMUP, NODE_WARMUP + cycles);
      if (Date.now() > deadline) throw new Error(`${gaps.length} restarts in 60 s`);
      await sleep(100);
    }
  } finally {
    pm2.kill();
    rmSync(log, { force: true });
  }
}

export const restartBenchmark: Benchmark = {
  name: 'restart',
  async run({ quick }) {
    const cycles = quick ? 60 : 200;
    const rounds = quick ? 1 : 3;
    const child = buildC('restart-child', { static: true });
    const floor: Run = { own: [], child: [] };
    const forkLoop: Run = { own: [], child: [] };
    const angel: Run = { own: [], cold: [], child: [], fresh: [] };
    const errors: { floor?: unknown; fork?: unknown; angel?: unknown } = {};
    const who = ['floor', 'fork', 'angel'] as const;
    await inRounds(who.length, rounds, cycles, async (index, share) => {
      const name = who[index] as (typeof who)[number];
      if (errors[name] !== undefined) return;
      try {
        if (name === 'angel') {
          const run = await angelRun(child, share, CRASH_LOOP, 0, NODE_WARMUP);
          angel.own.push(...run.own);
          angel.cold?.push(...(run.cold ?? []));
          angel.child.push(...run.child);
          angel.fresh?.push(...(run.fresh ?? []));
          angel.firstDelayMs ??= run.firstDelayMs;
        } else {
          const run = floorRun(child, share, name === 'fork');
          const into = name === 'fork' ? forkLoop : floor;
          into.own.push(...run.own);
          into.child.push(...run.child);
        }
      } catch (error) {
        errors[name] = error;
      }
    });
    let pm2: number[] | Error;
    try {
      pm2 = await pm2Run(child, cycles);
    } catch (error) {
      pm2 = error as Error;
    }

    const names = {
      floor: 'C floor: vfork loop, waitpid returns -> next exec confirmed',
      fork: 'C fork/exec/wait loop: the same, the exec confirmed by a close-on-exec pipe',
      angel: "angel: restartLatencyMs of its event log (its exit callback -> the child's execve)",
      angelCold: `angel: the same, its first ${WARMUP} restarts (a fresh angel, its restart path not yet compiled)`,
      floorChild: "C floor, vfork loop, the child's clock: exit -> next main() (the floor the target is set against)",
      forkChild: "C fork/exec/wait loop, the child's clock",
      angelChild: "angel, the child's clock",
      angelFresh: `angel, the child's clock, a fresh angel's first ${FRESH} restarts (its restart path compiling)`,
      pm2Child: `PM2 ${pm2Version()}, the child's clock (restart_delay 0, max_restarts 1e6, min_uptime 0)`,
    };
    /** Judged by the child's clock against the vfork loop; the ratio to the fork/exec/wait loop beside it. */
    const target = (samples: number[]): string => {
      const ratio = summarize(samples).median / summarize(floor.child).median;
      const loose = errors.fork === undefined ? `; ${ratioText(samples, forkLoop.child)} the fork/exec/wait loop` : '';
      return `<= ${TARGET}x the vfork loop: ${verdict(ratio <= TARGET)}, ${ratioText(samples, floor.child)}${loose}`;
    };
    const row = (name: string, run: Run, error: unknown, part: 'own' | 'child', judged = false, floorName?: string): Row => {
      if (error !== undefined) return errorRow(name, error);
      return {
        name,
        summary: summarize(run[part]),
        ...(floorName && { floor: floorName }),
        ...(judged && errors.floor === undefined && { target: target(run[part]) }),
      };
    };
    const rows: Row[] = [
      row(names.floor, floor, errors.floor, 'own'),
      row(names.fork, forkLoop, errors.fork, 'own'),
      row(names.angel, angel, errors.angel, 'own'),
      errors.angel !== undefined ? errorRow(names.angelCold, errors.angel) : { name: names.angelCold, summary: summarize(angel.cold ?? []) },
      row(names.floorChild, floor, errors.floor, 'child', false, names.floorChild),
      row(names.forkChild, forkLoop, errors.fork, 'child', false, names.floorChild),
      row(names.angelChild, angel, errors.angel, 'child', true, names.floorChild),
      errors.angel !== undefined ? errorRow(names.angelFresh, errors.angel) : { name: names.angelFresh, summary: summarize(angel.fresh ?? []), floor: names.floorChild },
      pm2 instanceof Error ? errorRow(names.pm2Child, pm2) : { name: names.pm2Child, summary: summarize(pm2), floor: names.floorChild },
    ];

    const first = angel.firstDelayMs;
    const median = (samples: number[]): string => (samples.length > 0 ? msText(summarize(samples).median) : 'error');
    const angelChildRow = rows[6] as Row;
    const profile = /NOT met/.test(angelChildRow.target ?? '') ? await cycleProfile(child, PROFILED_RESTARTS) : null;
    return {
      title: `restart latency: death -> next exec, crash loop of a static C program that exits 1, no backoff; ${cycles} restarts per row after ${WARMUP} warm-up (${NODE_WARMUP} for the Node supervisors)`,
      unit: 'ms',
      floor: names.floor,
      rows,
      notes: [
        `Targets (benchmarks/lib/targets.ts): by the child's clock, angel's median within ${TARGET}x of the C vfork loop's ` +
          `(the least a crash loop can cost, and angel spawns the same way), and the first restart immediate: angel's first ` +
          `restart event has delayMs ${String(first)} (${verdict(first === 0)}). The fork/exec/wait loop is the classic supervisor's, ` +
          'given beside it. angel runs as ' +
          '`angel --max-restart-delay 0 --max-restarts 100000 -- restart-child LOG`, stopped with SIGTERM once it has restarted enough; the loops and angel ' +
          `run in ${rounds} rotating rounds. The first four rows are the supervisors' own clocks (the C loops: waitpid returns -> ` +
          "the next exec confirmed; angel: restartLatencyMs, from its exit callback, when it has read the pidfd's exit, to the next " +
          "child's execve, as the child read the clock just before the call), the last four the child's (CLOCK_MONOTONIC from its exit() to the next generation's main(), exit and " +
          "exec included: the same for every row, and what a peer can be held to). angel's own figure starts when its exit callback " +
          "runs, so the child's clock is the one that shows the whole of death -> exec. runsv, s6, daemontools and supervisord are " +
          'not measured here (they are not npm packages). Each run of a Node supervisor (angel, PM2) counts its restarts from ' +
          `its ${NODE_WARMUP}th on: V8 compiles the restart path as it runs, and a fresh angel's restarts get faster for thousands ` +
          `of them (a crash loop's child's-clock medians here: restarts 10-50 0.72 ms, 800-1600 0.38, 3200-6400 0.32; the C loop's ` +
          "0.30-0.32 from its first on). The target is a crash loop's steady cost; a fresh angel's first restarts are the two rows " +
          `of their own, by angel's clock (its first ${WARMUP}) and by the child's (its first ${FRESH}): what a restart costs an angel ` +
          'that has not restarted before.',
        ...(profile === null
          ? []
          : [
              "Where a crash-loop cycle goes in angel's process (the target missed): one more crash loop of angel as above, under " +
                "`node --cpu-prof`, run from its unbundled modules (dist/src/face/cli.js: the code bin/angel's bundle holds, each " +
                "file its own place), its samples' self time by where the code lives, from its warm-up's end to its last restart " +
                `counted: ${profile}. A native call's time is its caller's (kernel/syscalls.js: the spawn, with the child's exec up ` +
                "to the kernel's release of the vfork parent, and the yield to the child after it); (native) is Node's own C++ " +
                "(its fs calls); the rest of the profiled time is idle, the wait for the next death (a C loop's waitpid). The " +
                "profiler's own cost is in it (a cycle is busier under it than the rows above show, the spawn most, whose " +
                'signals are blocked while the profiler samples): its shares, not its microseconds, are what it tells.',
            ]),
      ],
      headline: [
        {
          measure: "crash-loop restart: the child's exit -> the next child's main() (the child's clock)",
          angel: `${median(angel.child)} (${median(angel.own)} by angel's clock, its exit callback -> the child's execve)`,
          floor: `${median(floor.child)} vfork loop; ${median(forkLoop.child)} fork/exec/wait loop`,
          peers: pm2 instanceof Error ? `PM2: ${pm2.message}` : `PM2 ${pm2Version()} ${median(pm2)}`,
          target: `${angelChildRow.target ?? angelChildRow.error ?? ''}; the first restart immediate: ${verdict(first === 0)}`,
        },
      ],
    };
  },
};
