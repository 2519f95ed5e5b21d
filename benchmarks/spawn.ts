// Spawn -> exec confirmed: the C floor (vfork), angel's addon (clone CLONE_VM|CLONE_VFORK), the addon with a
// large heap (it must not grow with it, as fork would), and child_process.spawn, in one run.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { spawnChild } from '../src/spawn.js';
import { buildC, parseSamples, runC } from './lib/native-build.js';
import { summarize } from './lib/stats.js';
import type { Row, Table } from './lib/table.js';
import type { Benchmark } from './run.js';

async function addonSamples(count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const child = spawnChild({ program: '/bin/true' });
    samples.push(performance.now() - start);
    await child.exited;
  }
  return samples;
}

async function childProcessSamples(count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn('/bin/true', [], { stdio: 'ignore' });
      child.once('spawn', () => samples.push(performance.now() - start));
      child.once('error', reject);
      child.once('exit', () => resolve());
    });
  }
  return samples;
}

async function row(name: string, measure: () => Promise<number[]> | number[], warmup: number): Promise<Row> {
  try {
    return { name, summary: summarize((await measure()).slice(warmup)) };
  } catch (error) {
    return { name, error: (error as Error).message };
  }
}

export const spawnBenchmark: Benchmark = {
  name: 'spawn',
  async run({ quick }) {
    const count = quick ? 60 : 300;
    const warmup = 20;
    const floor = await row('C floor: vfork + execve + waitpid', () => parseSamples(runC(buildC('spawn-floor'), [String(count + warmup)])), warmup);
    const addon = await row('angel addon: spawnChild', () => addonSamples(count + warmup), warmup);
    const nodeSpawn = await row('child_process.spawn (to its spawn event)', () => childProcessSamples(count + warmup), warmup);
    const heap: unknown[] = [];
    for (let i = 0; i < 125; i++) heap.push(Array.from({ length: 2 ** 17 }, (_, k) => ({ k }))); // ~500 MB of small objects
    const addonHeap = await row('angel addon, ~500 MB heap', () => addonSamples(count + warmup), warmup);
    const nodeHeap = await row('child_process.spawn, ~500 MB heap', () => childProcessSamples(count + warmup), warmup);
    heap.length = 0;
    const ratio = (addon.summary?.median ?? NaN) / (floor.summary?.median ?? NaN);
    const table: Table = {
      title: 'spawn -> exec confirmed (/bin/true)',
      unit: 'ms',
      floor: floor.name,
      rows: [floor, addon, addonHeap, nodeSpawn, nodeHeap],
      verdict: `Target: addon median within 1.5x of the floor: ${ratio.toFixed(2)}x, ${ratio <= 1.5 ? 'met' : 'NOT met'}.`,
    };
    return [table];
  },
};
