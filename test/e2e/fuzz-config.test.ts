// Generated bad and edge inputs through the real CLI, the config keys of how the program is run (the program
// and its arguments too), and runs that start the program; fuzz-config-io.test.ts has the other keys
// (test/helpers/fuzz.ts holds the cases and the contract).
import { describe, test } from 'node:test';
import { configCases, prng, runCases, SEED, spawnCases } from '../helpers/fuzz.js';

describe('generated inputs: a usage error naming the key, or a clean run', () => {
  test('every config key of the program, memory cap, limits, restarts and signals with wrong types, NUL bytes, deep nesting', () =>
    runCases(configCases(prng(SEED + 1), 'process')));
  test('runs that start the program', () => runCases(spawnCases(prng(SEED + 2))));
});
