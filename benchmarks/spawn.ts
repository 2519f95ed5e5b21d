// Spawn -> exec confirmed: the C floor (vfork), angel's addon (clone CLONE_VM|CLONE_VFORK), the addon with a
// large heap (it must not grow with it, as fork would), and child_process.spawn, in one run.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { closeSync } from 'node:fs';
import { native } from '../src/native.js';
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

/** The addon's spawn call alone, with its arguments prepared as spawnChild prepares them. */
async function nativeSamples(count: number): Promise<number[]> {
  const envp = Object.entries(process.env).map(([key, value]) => `${key}=${value}`);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const [, pidfd] = native.spawn('/bin/true', ['/bin/true'], envp, -1, null, [0, 1, 2], [], -1, -1, null, false, -1);
    samples.push(performance.now() - start);
    await new Promise<void>((resolve) => native.watchExit(pidfd, () => resolve(), true));
    closeSync(pidfd);
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
    const addon = await row('angel addon: native spawn call', () => nativeSamples(count + warmup), warmup);
    const wrapper = await row('angel spawnChild (TS wrapper, env from process.env)', () => addonSamples(count + warmup), warmup);
    const nodeSpawn = await row('child_process.spawn (to its spawn event)', () => childProcessSamples(count + warmup), warmup);
    const heap: unknown[] = [];
    for (let i = 0; i < 125; i++) heap.push(Array.from({ length: 2 ** 17 }, (_, k) => ({ k }))); // ~500 MB of small objects
    const addonHeap = await row('angel spawnChild, ~500 MB heap', () => addonSamples(count + warmup), warmup);
    const nodeHeap = await row('child_process.spawn, ~500 MB heap', () => childProcessSamples(count + warmup), warmup);
    heap.length = 0;
    const ratio = (addon.summary?.median ?? NaN) / (floor.summary?.median ?? NaN);
    const wrapperRatio = (wrapper.summary?.median ?? NaN) / (floor.summary?.median ?? NaN);
    const table: Table = {
      title: 'spawn -> exec confirmed (/bin/true)',
      unit: 'ms',
      floor: floor.name,
      rows: [floor, addon, wrapper, addonHeap, nodeSpawn, nodeHeap],
      verdict: `Target: addon median within 1.5x of the floor: ${ratio.toFixed(2)}x, ${ratio <= 1.5 ? 'met' : 'NOT met'} (spawnChild as a whole: ${wrapperRatio.toFixed(2)}x).`,
    };
    return [table];
  },
};
