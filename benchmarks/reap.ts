// Reaping as PID 1: 10,000 orphans left to the reaper in a PID namespace of its own, the time from the first
// orphan's death to zero zombies, and the reaper's CPU over the storm (orphan-storm.c measures both from inside).
// angel beside tini and dumb-init (Debian packages), in rotating rounds, one run.
import { spawnSync } from 'node:child_process';
import { summarize } from '../src/core/stats.js';
import type { Benchmark } from './lib/benchmark.js';
import { angelCommand, buildC } from './lib/compile.js';
import { ensureDebianCommands } from './lib/debian.js';
import { profiledRun } from './lib/profile.js';
import { ratioText } from './lib/stats.js';
import { fmt, msText, verdict, type Row } from './lib/table.js';
import { TARGETS } from './lib/targets.js';

const ORPHANS = 10_000;
const TARGET = TARGETS.reapVsTini;

/** angel's flags, after its command. */
const ANGEL = ['--log-level', 'silent', '--restart', 'never', '--'];

const REAPERS: Array<{ name: string; command: string[] }> = [
  { name: 'tini (floor)', command: ['tini', '--'] },
  { name: 'dumb-init', command: ['dumb-init', '--'] },
  { name: 'angel', command: [...angelCommand(), ...ANGEL] },
];

function storm(command: readonly string[], program: string, orphans: number): { ms: number; cpuMs: number } {
  const run = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', ...command, program, String(orphans)], { encoding: 'utf8', timeout: 60_000 });
  const [ms, cpu] = run.stdout.trim().split(' ').map(Number);
  if (run.status !== 0 || ms === undefined || cpu === undefined || Number.isNaN(ms)) throw new Error(`${command[0]}: status ${run.status}, ${run.stderr.trim() || run.stdout.trim()}`);
  return { ms, cpuMs: cpu };
}

/** Where angel's CPU goes in a storm: one more, angel under `node --cpu-prof`, the storm's part of its profile. */
const angelProfile = (program: string, orphans: number): Promise<string> =>
  profiledRun((cpuProf) => storm([...angelCommand(cpuProf), ...ANGEL], program, orphans).ms, 6);

export const reapBenchmark: Benchmark = {
  name: 'reap',
  async run({ quick }) {
    const program = buildC('orphan-storm');
    const orphans = quick ? 1000 : ORPHANS;
    const rounds = quick ? 2 : 7;
    const installed = ensureDebianCommands(['tini', 'dumb-init']);
    const samples = REAPERS.map((reaper) => ({ ms: [] as number[], cpu: [] as number[], error: installed.get(reaper.command[0] ?? '') ?? undefined }));
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < REAPERS.length; k++) {
        const index = (round + k) % REAPERS.length;
        const reaper = REAPERS[index]!;
        const into = samples[index]!;
        if (into.error !== undefined) continue;
        try {
          const { ms, cpuMs } = storm(reaper.command, program, orphans);
          into.ms.push(ms);
          into.cpu.push(cpuMs);
        } catch (error) {
          into.error = (error as Error).message;
        }
      }
    }
    const floor = samples[0]!;
    const floorCpu = floor.cpu.length > 0 ? summarize(floor.cpu).median : NaN;
    /** "time <= 1.5x tini: met, 1.02x (95% CI ...)" for one of the two measures. */
    const judged = (what: string, mine: number[], tini: number[]): string => {
      if (tini.length === 0) return `${what}: no floor`;
      const ratio = summarize(mine).median / summarize(tini).median;
      return `${what} <= ${TARGET}x tini: ${verdict(ratio <= TARGET)}, ${ratioText(mine, tini)}`;
    };
    const rows: Row[] = REAPERS.map((reaper, index) => {
      const sampled = samples[index]!;
      if (sampled.error !== undefined || sampled.ms.length === 0) return { name: reaper.name, error: sampled.error ?? 'no samples' };
      const cpu = summarize(sampled.cpu).median;
      const row: Row = { name: reaper.name, summary: summarize(sampled.ms), values: { 'reaper CPU ms (median)': fmt(cpu), 'CPU x tini': floorCpu > 0 ? `${(cpu / floorCpu).toFixed(2)}x` : '-' } };
      if (reaper.name === 'angel') row.target = `${judged('time', sampled.ms, floor.ms)}; ${judged('CPU', sampled.cpu, floor.cpu)}`;
      return row;
    });
    const profile = /CPU <= [\d.]+x tini: NOT met/.test(rows[2]?.target ?? '') ? await angelProfile(program, orphans) : null;
    const figures = (index: number): string => {
      const row = rows[index]!;
      return row.error !== undefined ? `error: ${row.error}` : `${msText(row.summary?.median)}, ${row.values?.['reaper CPU ms (median)']} ms of CPU`;
    };
    return {
      title: `reaping ${orphans} orphans as PID 1: the first orphan's death -> zero zombies, and the reaper's CPU, ${rounds} runs per row`,
      unit: 'ms',
      floor: 'tini (floor)',
      rows,
      notes: [
        `Target (benchmarks/lib/targets.ts): angel within ${TARGET}x of tini in time and in CPU, at the median. Each run is a fresh PID ` +
          'namespace (unshare --pid --fork --mount-proc) with the reaper as PID 1 and orphan-storm.c as its child: it double-forks ' +
          'the orphans (each grandchild exits at once), a second after its start (the reaper has finished starting), then polls /proc until only PID 1 and itself are left. The time is ' +
          "CLOCK_MONOTONIC from the first orphan's death (it notes the time just before its _exit, in memory it shares with " +
          'orphan-storm) to the poll that finds zero zombies: the storm as the reaper lives it, its CPU competing with the forks ' +
          'on the same cores. The CPU is PID 1\'s time on a CPU over the storm (from before the first fork to zero zombies), every ' +
          "thread's sum_exec_runtime from /proc/1/task/<tid>/schedstat (ns).",
        ...(profile === null
          ? []
          : [
            "Where angel's CPU goes (its CPU target missed): one more storm, angel under `node --cpu-prof` (its main thread " +
              `sampled every ms), the storm's part of the profile by self time and where the code lives: ${profile}.`,
          ]),
      ],
      headline: [
        {
          measure: `reaping ${orphans.toLocaleString('en')} orphans as PID 1: the first orphan's death -> zero zombies (CLOCK_MONOTONIC, in the storm), and the reaper's CPU`,
          angel: figures(2),
          floor: `tini ${figures(0)}`,
          peers: `dumb-init ${figures(1)}`,
          target: rows[2]?.target ?? `error: ${rows[2]?.error}`,
        },
      ],
    };
  },
};
