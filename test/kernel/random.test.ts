// kernel/random.ts: names from the kernel's generator.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { randomHex } from '../../src/kernel/random.js';

describe('randomHex', () => {
  test('gives the bytes asked for as hex, different each time', () => {
    const names = new Set(Array.from({ length: 100 }, () => randomHex(8)));
    assert.equal(names.size, 100);
    for (const name of names) assert.match(name, /^[0-9a-f]{16}$/);
  });
});
