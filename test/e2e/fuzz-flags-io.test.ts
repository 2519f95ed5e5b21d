// Generated bad and edge inputs through the real CLI, the flags of what angel opens and hands the program
// (sockets and readiness, identity and environment, logs, monitoring), --config with what is no config, and
// the shapes of bugs found once (test/helpers/fuzz.ts holds the cases and the contract).
import { describe, test } from 'node:test';
import { flagCases, prng, runCases, SEED } from '../helpers/fuzz.js';

describe('generated inputs: a usage error naming the flag, or a clean run', () => {
  test('every flag of sockets, identity and environment, logs and monitoring with edge and bad values, missing, repeated; --config with what is no config', () =>
    runCases(flagCases(prng(SEED + 3), 'io')));
});
