// Sizes, counts, rlimit specs and signals: many inputs, good and bad, each bad one named in its error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../src/errors.js';
import { parseCount, parseRlimitSpec, parseRlimitValue, parseSize, UNLIMITED } from '../src/limits.js';
import { parseSignal } from '../src/signames.js';

const UNITS: Array<[string[], number]> = [
  [['', 'B', 'b'], 1],
  [['K', 'k', 'KB', 'KiB', 'kib'], 2 ** 10],
  [['M', 'm', 'MB', 'MiB'], 2 ** 20],
  [['G', 'g', 'GB', 'GiB'], 2 ** 30],
  [['T', 'TB', 'TiB'], 2 ** 40],
];

function assertUsage(run: () => unknown, flag: string, input: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof UsageError, `${input}: ${String(error)}`);
    assert.ok(error.message.startsWith(`${flag}:`), error.message);
    assert.ok(error.message.includes(JSON.stringify(input)), `${error.message} names ${input}`);
    return true;
  }, `${JSON.stringify(input)} should be refused`);
}

test('parseSize: every whole number with every unit spelling is n x multiplier', () => {
  for (let n = 0; n <= 1100; n += 7) {
    for (const [spellings, multiplier] of UNITS) {
      for (const unit of spellings) assert.equal(parseSize(`${n}${unit}`), n * multiplier, `${n}${unit}`);
    }
  }
});

test('parseSize: fractions with a unit round down to whole bytes; spaces around are fine', () => {
  const cases: Array<[string, number]> = [
    ['1.5G', 1.5 * 2 ** 30], ['0.5K', 512], ['0.1K', 102], ['2.25M', 2.25 * 2 ** 20], [' 1k ', 1024], ['64 KiB', 65536],
    ['100MB', 100 * 2 ** 20], ['4096', 4096], ['4096B', 4096], ['512M', 536870912],
  ];
  for (const [input, bytes] of cases) assert.equal(parseSize(input), bytes, input);
});

test('parseSize: bad inputs are usage errors naming the flag and the input', () => {
  for (const input of ['', ' ', '-1', '1.5', 'abc', '1e3', '12X', '0x10', 'M', '1..5M', '1.5.2G', '1 2', '+5', '5MiBs', 'NaN', 'Infinity', '9999999T']) {
    assertUsage(() => parseSize(input, '--max-mem'), '--max-mem', input);
  }
});

test('parseCount: whole numbers at or above the minimum', () => {
  for (let n = 0; n < 2000; n += 13) assert.equal(parseCount(String(n), '--max-fds'), n);
  assert.equal(parseCount(' 8 ', '--x', 1), 8);
  for (const input of ['', '-3', '1.0', '1e2', 'ten', '0x1', '99999999999999999999']) assertUsage(() => parseCount(input, '--max-fds'), '--max-fds', input);
  assertUsage(() => parseCount('0', '--sample-interval', 1), '--sample-interval', '0');
});

test('parseRlimitSpec: name=soft[:hard], one value for both, units for byte limits, unlimited', () => {
  const cases: Array<[string, string, number, number]> = [
    ['nofile=1024:4096', 'nofile', 1024, 4096],
    ['NOFILE=10', 'nofile', 10, 10],
    ['core=unlimited', 'core', UNLIMITED, UNLIMITED],
    ['core=0:infinity', 'core', 0, UNLIMITED],
    ['as=2G', 'as', 2 * 2 ** 30, 2 * 2 ** 30],
    ['stack=8M:unlimited', 'stack', 8 * 2 ** 20, UNLIMITED],
    ['rlimit_nproc=50:60', 'nproc', 50, 60],
    [' cpu = 10 : 20 ', 'cpu', 10, 20],
  ];
  for (const [spec, name, soft, hard] of cases) assert.deepEqual(parseRlimitSpec(spec), { name, limit: { soft, hard } }, spec);
});

test('parseRlimitSpec: bad specs name the flag and the spec', () => {
  for (const spec of ['nofile', 'nofile=', '=10', 'bogus=1', 'nofile=20:10', 'core=unlimited:0', 'nofile=1K', 'cpu=5s', 'as=lots', 'nofile=1:2:3']) {
    assertUsage(() => parseRlimitSpec(spec), '--rlimit', spec);
  }
});

test('parseRlimitValue: sizes only where the limit counts bytes', () => {
  assert.equal(parseRlimitValue('as', '1M', '--rlimit'), 2 ** 20);
  assert.equal(parseRlimitValue('memlock', '64K', '--rlimit'), 65536);
  assert.equal(parseRlimitValue('nofile', '1000', '--rlimit'), 1000);
  assertUsage(() => parseRlimitValue('nofile', '1K', '--rlimit'), '--rlimit', '1K');
});

test('parseSignal: names with or without SIG, any case, and numbers', () => {
  const cases: Array<[string, string]> = [['SIGTERM', 'SIGTERM'], ['TERM', 'SIGTERM'], ['term', 'SIGTERM'], ['15', 'SIGTERM'], ['9', 'SIGKILL'], ['sigint', 'SIGINT'], ['HUP', 'SIGHUP'], ['USR2', 'SIGUSR2']];
  for (const [input, name] of cases) assert.equal(parseSignal(input, '--stop-signal'), name, input);
  for (const input of ['', 'SIGNOPE', 'TERMS', '0', '99', '-15', 'SIG']) assertUsage(() => parseSignal(input, '--stop-signal'), '--stop-signal', input);
});
