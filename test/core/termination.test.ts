// The termination summary Kubernetes shows, row by row: how angel ended, the last generation, the cap, the
// restarts; one line each, control characters escaped, at most 4096 bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { terminationMessage } from '../../src/core/termination.js';
import type { ExitEvent } from '../../src/core/types.js';

const MiB = 2 ** 20;
const exit = (fields: Partial<ExitEvent>): ExitEvent => ({
  pid: 42, generation: 3, code: null, signal: 'SIGTERM', coreDumped: false, reason: 'overrun', uptimeMs: 42_100, peakRssBytes: 231 * MiB, ...fields,
});

test('terminationMessage: status and cause, the last generation, the cap and what it is a share of, the restarts', () => {
  assert.equal(terminationMessage({
    shutdown: { cause: 'SIGTERM', status: 143 },
    lastExit: exit({}),
    cap: { capBytes: 230.4 * MiB, ofBytes: 256 * MiB, source: 'cgroup' },
    restartsByReason: { overrun: 2, crash: 1, exit: 0 },
  }), [
    'angel exited 143 (SIGTERM)',
    'last generation 3: overrun (SIGTERM) after 42.1 s, peak 231.0 MiB',
    'cap 230.4 MiB of the cgroup\'s 256.0 MiB',
    'restarts 3 (overrun 2, crash 1)',
    '',
  ].join('\n'));
  assert.equal(terminationMessage({
    shutdown: { cause: 'exit', status: 0 },
    lastExit: exit({ code: 0, signal: null, reason: 'exit', uptimeMs: 500, peakRssBytes: null }),
    cap: null,
    restartsByReason: {},
  }), 'angel exited 0 (exit)\nlast generation 3: exit (code 0) after 0.5 s\nrestarts 0\n');
  assert.match(terminationMessage({ shutdown: { cause: 'spawn', status: 127 }, lastExit: null, cap: { capBytes: MiB, ofBytes: 2 * MiB, source: 'machine' }, restartsByReason: {} }),
    /^angel exited 127 \(spawn\)\ncap 1\.0 MiB of the machine's 2\.0 MiB\nrestarts 0\n$/);
});

test('terminationMessage: never more than 4096 bytes, and no control character', () => {
  const long = terminationMessage({ shutdown: { cause: `x\u001b[31m${'y'.repeat(9000)}`, status: 1 }, lastExit: null, cap: null, restartsByReason: {} });
  assert.ok(Buffer.byteLength(long) <= 4096);
  assert.doesNotMatch(long.slice(0, -1), /[\u0000-\u0009\u000b-\u001f]/);
  assert.match(long, /\\u001b\[31m/);
});
