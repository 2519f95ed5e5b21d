// How a stop goes, and the rules of a launch, row by row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { restartLatencyMs, restartRulesOf } from '../../src/core/backoff.js';
import { resolveOptions } from '../../src/core/options.js';
import { stopSignals } from '../../src/core/stopping.js';

test('stopSignals: the signal, then SIGCONT so a stopped process acts on it; SIGKILL and SIGCONT alone', () => {
  assert.deepEqual(stopSignals('SIGTERM'), ['SIGTERM', 'SIGCONT']);
  assert.deepEqual(stopSignals('SIGINT'), ['SIGINT', 'SIGCONT']);
  assert.deepEqual(stopSignals('SIGKILL'), ['SIGKILL']);
  assert.deepEqual(stopSignals('SIGCONT'), ['SIGCONT']);
});

test('restartRulesOf: the options\' numbers, the window in ms; overlap exactly when sockets are held', () => {
  const options = resolveOptions({ program: 'x', maxRestarts: 3, restartWindow: '2m', minUptime: '2s' });
  const rules = restartRulesOf(options, 15, false);
  assert.deepEqual(rules, { policy: 'on-failure', maxRestarts: 3, windowMs: 120_000, maxDelayMs: 10_000, minUptimeMs: 2000, restartDelayMs: 0, stopSignalNumber: 15, overlap: false });
  assert.equal(restartRulesOf(options, 15, true).overlap, true);
});

test('restartLatencyMs: from the death to the next start, less the backoff waited; no gap when overlapped', () => {
  assert.equal(restartLatencyMs(150, 100, 0, false), 50);
  assert.equal(restartLatencyMs(350, 100, 200, false), 50);
  assert.equal(restartLatencyMs(90, 100, 0, false), 0, 'never negative');
  assert.equal(restartLatencyMs(150, 100, 0, true), 0);
});
