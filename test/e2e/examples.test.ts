// The examples of the README and of angel's help (test/helpers/examples.ts): each has its expectation, and those
// that end on their own (a leak given up on, a check, a completion script) run as written here; the servers and
// the benchmark have files of their own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXPECTED, eachExample, examples } from '../helpers/examples.js';

test('every example of the README and of angel\'s help has its expectation here, and every expectation its example', () => {
  assert.deepEqual(examples().sort(), Object.keys(EXPECTED).sort());
});

eachExample('each example that ends on its own, run as written', ['gives up', 'checks', 'writes']);
