// The sampler against a real child: the tree's memory read at the delay it is given after each sample, its peak
// kept; the source given (a cgroup's figure) read instead of the tree, and a sample with no process left the end.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { Sampler } from '../../src/kernel/sampler.js';
import { atTestEnd } from '../helpers/cleanup.js';
import { fixture } from '../helpers/events.js';

const MiB = 2 ** 20;

/** Resolves once `condition` holds (checked every turn of the loop), or fails after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('samples the tree at the delay given after each sample, and keeps the peak', async () => {
  const child = spawn(fixture('step'), ['24'], { stdio: ['ignore', 'pipe', 'inherit'] });
  atTestEnd(() => void child.kill('SIGKILL'));
  await new Promise((resolve) => child.stdout.once('data', resolve));
  const asked: number[] = [];
  const samples: number[] = [];
  const sampler = new Sampler(child.pid as number, (sample) => {
    asked.push(sample.rssBytes);
    return 5;
  }, (sample) => samples.push(sample.rssBytes));
  sampler.start();
  await until(() => samples.length >= 5);
  sampler.stop();
  assert.ok(samples.every((bytes) => bytes > 24 * MiB), 'each sample holds the step');
  assert.deepEqual(asked, samples, 'the delay is asked for after each sample, with it');
  assert.equal(sampler.peakRssBytes, Math.max(...samples));
});

test('a source given is read instead of the tree; a sample with no process left ends the sampling', async () => {
  let reads = 0;
  const seen: number[] = [];
  const sampler = new Sampler(process.pid, () => 1, (sample) => seen.push(sample.rssBytes), new Set(), () => {
    reads++;
    return { pids: reads < 3 ? [process.pid] : [], rssBytes: reads * MiB };
  });
  sampler.start();
  await until(() => reads >= 3);
  // a few more turns and timers' worth: no read follows the empty one
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setTimeout(resolve, 1));
  assert.deepEqual(seen, [MiB, 2 * MiB]);
  assert.equal(reads, 3);
  assert.equal(sampler.peakRssBytes, 2 * MiB);
});
