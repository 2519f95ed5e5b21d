// The one options schema: defaults, folding, sources, and errors that name the flag or the file's key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULTS, mergeOptions, parseConfigText, resolveOptions } from '../src/config.js';
import { UsageError } from '../src/errors.js';
import type { Options } from '../src/types.js';

test('defaults are those of the contract', () => {
  const resolved = resolveOptions({ program: 'x' });
  assert.equal(resolved.sampleInterval, 100);
  assert.equal(resolved.overrunSamples, 1);
  assert.equal(resolved.restart, 'on-failure');
  assert.equal(resolved.maxRestarts, 10);
  assert.equal(resolved.restartWindow, 60);
  assert.equal(resolved.killTimeout, 5000);
  assert.equal(resolved.stopSignal, 'SIGTERM');
  assert.equal(resolved.reload, 'restart');
  assert.deepEqual(resolved.ready, { kind: 'exec' });
  assert.equal(resolved.maxMem, null);
  assert.deepEqual(resolved.rlimits, {});
  assert.equal(DEFAULTS.maxRestartDelay, 10_000);
});

test('maxVmem and maxFds fold into rlimits with soft = hard; rlimits and env take both shapes', () => {
  const resolved = resolveOptions({
    program: 'x', maxVmem: '1G', maxFds: 64, maxMem: 1000,
    rlimits: { core: 0, nofile: { soft: 10, hard: 20 }, stack: 'unlimited' }, env: { A: '1' },
  });
  assert.deepEqual(resolved.rlimits.as, { soft: 2 ** 30, hard: 2 ** 30 });
  assert.deepEqual(resolved.rlimits.nofile, { soft: 64, hard: 64 }, '--max-fds wins over rlimits.nofile');
  assert.deepEqual(resolved.rlimits.core, { soft: 0, hard: 0 });
  assert.deepEqual(resolved.rlimits.stack, { soft: -1, hard: -1 });
  assert.equal(resolved.maxMem, 1000);
  assert.deepEqual(resolved.env, { A: '1' });
  const fromSpecs = resolveOptions({ program: 'x', rlimits: ['core=unlimited', 'nproc=5:6'], env: ['B=2=3', 'C='] });
  assert.deepEqual(fromSpecs.rlimits, { core: { soft: -1, hard: -1 }, nproc: { soft: 5, hard: 6 } });
  assert.deepEqual(fromSpecs.env, { B: '2=3', C: '' });
});

test('every bad value is a UsageError naming the flag and the value', () => {
  const bad: Array<[Partial<Options>, string, string]> = [
    [{ maxMem: '12X' }, '--max-mem', '12X'], [{ maxMem: 0 }, '--max-mem', '0'], [{ maxMem: -5 }, '--max-mem', '-5'],
    [{ maxVmem: 'big' }, '--max-vmem', 'big'], [{ maxFds: '0' }, '--max-fds', '0'], [{ maxFds: 1.5 }, '--max-fds', '1.5'],
    [{ sampleInterval: '0' }, '--sample-interval', '0'], [{ overrunSamples: 'x' }, '--overrun-samples', 'x'],
    [{ restart: 'sometimes' as never }, '--restart', 'sometimes'], [{ maxRestarts: '-1' }, '--max-restarts', '-1'],
    [{ restartWindow: 0 }, '--restart-window', '0'], [{ killTimeout: 'soon' }, '--kill-timeout', 'soon'],
    [{ stopSignal: 'SIGNOPE' }, '--stop-signal', 'SIGNOPE'], [{ reload: 'later' as never }, '--reload', 'later'],
    [{ env: ['NOEQUALS'] }, '--env', 'NOEQUALS'], [{ rlimits: ['bogus=1'] }, '--rlimit', 'bogus=1'],
    [{ listen: ['nowhere'] }, '--listen', 'nowhere'], [{ listen: ['example.com:80'] }, '--listen', 'example.com:80'],
    [{ ready: 'soon' }, '--ready', 'soon'], [{ socketMode: '999' }, '--socket-mode', '999'],
    [{ logFormat: 'xml' as never }, '--log-format', 'xml'], [{ user: '' }, '--user', ''],
  ];
  for (const [options, flag, value] of bad) {
    assert.throws(() => resolveOptions({ program: 'x', ...options }), (error: unknown) => {
      assert.ok(error instanceof UsageError, `${flag}: ${String(error)}`);
      assert.ok(error.message.startsWith(`${flag}:`), error.message);
      assert.ok(error.message.includes(value), `${error.message} names ${value}`);
      return true;
    });
  }
});

test('a config file: its keys are named after the file; unknown keys and bad JSON are refused', () => {
  const file = parseConfigText(JSON.stringify({ program: 'x', maxMem: 'lots' }), 'angel.json');
  assert.throws(() => resolveOptions(file.options as Options, file.origins), /^UsageError: angel\.json: maxMem: .*"lots"/);
  assert.throws(() => parseConfigText('{"maxMemory": 1}', 'angel.json'), /angel\.json: maxMemory: unknown key/);
  assert.throws(() => parseConfigText('{not json', 'angel.json'), /--config: expected JSON/);
  assert.throws(() => parseConfigText('[1]', 'angel.json'), /--config: expected a JSON object/);
});

test('flags win over the file key by key, and an overridden key is named by its flag', () => {
  const file = parseConfigText(JSON.stringify({ program: 'a', maxMem: '1G', killTimeout: 100 }), 'angel.json');
  const { options, origins } = mergeOptions(file, { maxMem: 'nope' });
  assert.equal(options.killTimeout, 100);
  assert.equal(origins.maxMem, undefined);
  assert.throws(() => resolveOptions(options, origins), /^UsageError: --max-mem: .*"nope"/);
  const merged = mergeOptions(file, { killTimeout: '200' });
  assert.equal(resolveOptions(merged.options, merged.origins).killTimeout, 200);
  assert.equal(resolveOptions(merged.options, merged.origins).maxMem, 2 ** 30);
});
