// --ready's modes, as text and back, row by row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/core/errors.js';
import { formatReady, parseReady } from '../../src/core/readiness.js';

test('parseReady and formatReady: every mode, and back to the same text', () => {
  const rows: Array<[string, ReturnType<typeof parseReady>, string]> = [
    ['exec', { kind: 'exec' }, 'exec'], ['fd', { kind: 'fd' }, 'fd'], ['notify', { kind: 'notify' }, 'notify'],
    ['tcp:8080', { kind: 'tcp', host: '127.0.0.1', port: 8080 }, 'tcp:127.0.0.1:8080'], ['tcp:10.0.0.1:80', { kind: 'tcp', host: '10.0.0.1', port: 80 }, 'tcp:10.0.0.1:80'],
    ['delay:250', { kind: 'delay', ms: 250 }, 'delay:250'], ['delay:2s', { kind: 'delay', ms: 2000 }, 'delay:2000'], ['delay:1m30s', { kind: 'delay', ms: 90_000 }, 'delay:90000'],
  ];
  for (const [text, mode, shown] of rows) {
    assert.deepEqual(parseReady(text), mode, text);
    assert.equal(formatReady(mode), shown, text);
  }
  for (const bad of ['', 'ready', 'tcp:0', 'tcp:70000', 'delay:', 'delay:x', 'delay:-1', `delay:${2 ** 31}`, 'delay:25d', 'EXEC']) {
    assert.throws(() => parseReady(bad, '--ready'), (error: unknown) => error instanceof UsageError && error.flag === '--ready'
      && /expected exec, fd, notify, tcp:PORT or delay:DURATION/.test(error.message), bad);
  }
});
