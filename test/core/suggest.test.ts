// Which command a mistyped word was meant to be (core/suggest.ts), row by row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closest, editDistance } from '../../src/core/suggest.js';

const COMMANDS = ['run', 'check', 'bench', 'status', 'completion', 'help'];

test('edits, a swap of neighbours counting one', () => {
  const rows: Array<[string, string, number]> = [
    ['status', 'status', 0], ['stauts', 'status', 1], ['stat', 'status', 2], ['sttaus', 'status', 1], ['', 'run', 3],
    ['chekc', 'check', 1], ['bnech', 'bench', 1], ['node', 'run', 4], ['kitten', 'sitting', 3], ['ca', 'abc', 3],
  ];
  for (const [a, b, distance] of rows) {
    assert.equal(editDistance(a, b), distance, `${a} ${b}`);
    assert.equal(editDistance(b, a), distance, `${b} ${a}`);
  }
});

test('a typo of a command names it; a program\'s name does not', () => {
  const rows: Array<[string, string | null]> = [
    ['stauts', 'status'], ['stat', 'status'], ['Status', 'status'], ['statsu', 'status'], ['chek', 'check'], ['cehck', 'check'],
    ['bnech', 'bench'], ['rnu', 'run'], ['hlep', 'help'], ['completoin', 'completion'],
    ['sh', null], ['true', null], ['node', null], ['echo', null], ['bash', null], ['sleep', null], ['rm', null], ['st', null], ['python3', null],
  ];
  for (const [word, meant] of rows) assert.equal(closest(word, COMMANDS), meant, word);
});
