// Reaping as PID 1: 10,000 orphans left to the reaper in a PID namespace of its own, the time from the last
// orphan's fork to zero zombies, and the reaper's CPU over that time (orphan-storm.c measures both from inside).
// angel beside tini and dumb-init (Debian packages), in rotating rounds, one run.
import { spawnSync } from 'node:child_process';
import { summarize } from '../src/core/stats.js';
import type { Benchmark } from './lib/benchmark.js';
import { buildC, CLI } from './lib/compile.js';
import { ensureDebianCommands } from './lib/debian.js';
import { fmt, verdict, type Row } from './lib/table.js';

const ORPHANS = 10_000;
const TARGET = 1.5;

const REAPERS: Array<{ name: string; command: string[] }> = [
  { name: 'tini (floor)', command: ['tini', '--'] },
  { name: 'dumb-init', command: ['dumb-init', '--'] },
  { name: 'angel', command: [process.execPath, CLI, '--log-level', 'silent', '--restart', 'never', '--'] },
];

function storm(command: readonly string[], program: string, orphans: number): { ms: number; cpuMs: number } {
  const run = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', ...command, program, String(orphans)], { encoding: 'utf8', timeout: 60_000 });
  const [ms, cpu] = run.stdout.trim().split(' ').map(Number);
  if (run.status !== 0 || ms === undefined || cpu === undefined || Number.isNaN(ms)) throw new Error(`${command[0]}: status ${run.status}, ${run.stderr.trim() || run.stdout.trim()}`);
  return { ms, cpuMs: cpu };
}

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
    const floorMs = floor.ms.length > 0 ? summarize(floor.ms).median : NaN;
    const floorCpu = floor.cpu.length > 0 ? summarize(floor.cpu).median : NaN;
    const rows: Row[] = REAPERS.map((reaper, index) => {
      const sampled = samples[index]!;
      if (sampled.error !== undefined || sampled.ms.length === 0) return { name: reaper.name, error: sampled.error ?? 'no samples' };
      const cpu = summarize(sampled.cpu).median;
      const row: Row = { name: reaper.name, summary: summarize(sampled.ms), values: { 'reaper CPU ms (median)': fmt(cpu), 'CPU x tini': floorCpu > 0 ? fmt(cpu / floorCpu) : '-' } };
      if (reaper.name === 'angel') row.target = `<= ${TARGET}x tini: ${verdict(summarize(sampled.ms).median <= TARGET * floorMs)}`;
      return row;
    });
    return {
      title: `reaping ${orphans} orphans as PID 1: the last orphan's fork -> zero zombies, ${rounds} runs per row`,
      unit: 'ms',
      floor: 'tini (floor)',
      rows,
      notes: [
        `Target: angel within ${TARGET}x of tini. Each run is a fresh PID namespace (unshare --pid --fork --mount-proc) with the ` +
          'reaper as PID 1 and orphan-storm.c as its child: it double-forks the orphans (each grandchild exits at once), then ' +
          'polls /proc until only PID 1 and itself are left; the CPU is PID 1\'s utime + stime over that time (10 ms ticks).',
      ],
    };
  },
};
