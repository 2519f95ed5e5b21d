// kernel/clock.ts: the one clock of angel's timings, and no other read beside it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { now } from '../../src/kernel/clock.js';
import { ROOT } from '../helpers/events.js';

/** Every TypeScript file below a directory of the sources. */
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : []);

describe('now()', () => {
  test('reads CLOCK_MONOTONIC in milliseconds: a span of it lies within the span of performance.now() around it', async () => {
    const outerStart = performance.now();
    const start = now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const end = now();
    const outerEnd = performance.now();
    assert.ok(end - start >= 19, `${end - start} ms over a 20 ms timer`);
    assert.ok(end - start <= outerEnd - outerStart + 0.01, `${end - start} ms inside ${outerEnd - outerStart} ms`);
  });

  test('no module of angel reads another clock for its timings (a difference of two origins is meaningless)', () => {
    const code = (file: string): string => readFileSync(file, 'utf8').split('\n').filter((line) => !/^\s*(\/\/|\*|\/\*\*)/.test(line)).join('\n');
    const readers = sources(join(ROOT, 'src')).filter((file) => /performance\.now\(|node:perf_hooks/.test(code(file)));
    assert.deepEqual(readers.map((file) => file.slice(ROOT.length + 1)), []);
  });
});
