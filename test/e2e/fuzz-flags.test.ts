// Generated bad and edge inputs through the real CLI, the flags of how the program is run (memory cap, limits,
// restarts, signals) and counts past what the addon takes; fuzz-flags-io.test.ts has the other flags
// (test/helpers/fuzz.ts holds the cases and the contract: a usage error naming the flag, or a clean run; never
// a stack trace, never a hang).
import { describe, test } from 'node:test';
import { flagCases, limitCases, prng, runCases, SEED } from '../helpers/fuzz.js';

describe('generated inputs: a usage error naming the flag, or a clean run', () => {
  test('every flag of memory cap, limits, restarts and signals with edge and bad values, missing, repeated', () => runCases(flagCases(prng(SEED), 'process')));
  test('counts past what the addon\'s spawn takes', () => runCases(limitCases()));
});
