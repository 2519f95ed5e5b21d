// Generated bad and edge inputs through the real CLI, the config file's half and runs that start the program
// (test/helpers/fuzz.ts holds the cases and the contract).
import { describe, test } from 'node:test';
import { configCases, prng, runCases, SEED, spawnCases } from '../helpers/fuzz.js';

describe('generated inputs: a usage error naming the key, or a clean run', () => {
  test('every config key with wrong types, NUL bytes, deep nesting; unknown keys; what is no JSON object', () =>
    runCases(configCases(prng(SEED + 1))));
  test('runs that start the program', () => runCases(spawnCases(prng(SEED + 2))));
});
