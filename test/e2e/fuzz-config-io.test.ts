// Generated bad and edge inputs through the real CLI, the config keys of what angel opens and hands the program,
// deep values, unknown keys and what is no JSON object (test/helpers/fuzz.ts holds the cases and the contract).
import { describe, test } from 'node:test';
import { configCases, prng, runCases, SEED } from '../helpers/fuzz.js';

describe('generated inputs: a usage error naming the key, or a clean run', () => {
  test('every config key of sockets, identity and environment, logs and monitoring with wrong types, NUL bytes, deep nesting; unknown keys; what is no JSON object', () =>
    runCases(configCases(prng(SEED + 4), 'io')));
});
