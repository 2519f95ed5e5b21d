// Generated bad and edge inputs through the real CLI, the flags' half (test/helpers/fuzz.ts holds the cases and
// the contract: a usage error naming the flag, or a clean run; never a stack trace, never a hang).
import { describe, test } from 'node:test';
import { flagCases, limitCases, prng, runCases, SEED } from '../helpers/fuzz.js';

describe('generated inputs: a usage error naming the flag, or a clean run', () => {
  test('every flag with edge and bad values, missing, repeated; --config with what is no config', () => runCases(flagCases(prng(SEED))));
  test('counts past what the addon\'s spawn takes', () => runCases(limitCases()));
});
