// Sizes, counts, rlimit specs and signals: many inputs, good and bad, each bad one named in its error.
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { test } from 'node:test';
import { UsageError } from '../../src/core/errors.js';
import { parseCount, parseDuration, parseRlimitSpec, parseRlimitValue, parseSize, RLIMIT_NAMES, UNLIMITED, type RlimitName } from '../../src/core/limits.js';
import { parseSignal } from '../../src/core/signames.js';

const KiB = 2 ** 10;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const TiB = 2 ** 40;

/** Every spelling of every unit: DESIGN.md makes KB, MB … binary like KiB, MiB, in any case. */
const UNITS: Array<[string[], number]> = [
  [['', 'B', 'b'], 1],
  [['K', 'k', 'KB', 'kb', 'kB', 'KiB', 'kib', 'KIB'], KiB],
  [['M', 'm', 'MB', 'mb', 'MiB', 'mib'], MiB],
  [['G', 'g', 'GB', 'gb', 'GiB', 'gib'], GiB],
  [['T', 't', 'TB', 'tb', 'TiB', 'tib'], TiB],
];

/** The limits setrlimit(2) counts in bytes, which take size suffixes; the rest are plain counts. */
const BYTE_LIMITS: readonly RlimitName[] = ['as', 'core', 'data', 'fsize', 'memlock', 'msgqueue', 'rss', 'stack'];

/** The input is refused with a UsageError that names the flag and the input as written. */
function assertUsage(run: () => unknown, flag: string, input: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof UsageError, `${JSON.stringify(input)}: ${String(error)}`);
    assert.equal(error.flag, flag);
    assert.equal(error.value, input);
    assert.ok(error.message.startsWith(`${flag}: `), error.message);
    assert.ok(error.message.includes(JSON.stringify(input)), `${error.message} names ${JSON.stringify(input)}`);
    assert.ok(!error.message.includes('\n'), 'one line');
    return true;
  }, `${JSON.stringify(input)} should be refused`);
}

test('parseSize: every n in 0..1100 with every unit spelling is n x multiplier', () => {
  let checked = 0;
  for (let n = 0; n <= 1100; n++) {
    for (const [spellings, multiplier] of UNITS) {
      for (const unit of spellings) {
        assert.equal(parseSize(`${n}${unit}`), n * multiplier, `${n}${unit}`);
        checked++;
      }
    }
  }
  assert.equal(checked, 1101 * UNITS.reduce((sum, [spellings]) => sum + spellings.length, 0));
});

test('parseSize: halves and quarters of a unit are exact; spaces between and around are fine', () => {
  for (let n = 0; n <= 300; n++) {
    for (const [spellings, multiplier] of UNITS.slice(1)) {
      const unit = spellings[0] ?? '';
      assert.equal(parseSize(`${n}.5${unit}`), n * multiplier + multiplier / 2, `${n}.5${unit}`);
      assert.equal(parseSize(`${n}.25${unit}`), n * multiplier + multiplier / 4, `${n}.25${unit}`);
      assert.equal(parseSize(` ${n} ${unit} `), n * multiplier, ` ${n} ${unit} `);
    }
  }
});

/** A small seeded generator (xorshift32), so a failing generated case is the same on every run. */
function generator(seed: number): (below: number) => number {
  let state = seed >>> 0 || 1;
  return (below) => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % below;
  };
}

test('parseSize: generated decimals of every unit agree with exact integer arithmetic, rounded down', () => {
  // The oracle is BigInt arithmetic on the digits, independent of the parser's doubles. Sizes stay below
  // 2^46 bytes, where a double's error on a 3-digit decimal (< 1/125 of a byte) cannot cross a whole byte.
  const random = generator(0x5eed);
  for (let i = 0; i < 20000; i++) {
    const [spellings, multiplier] = UNITS[1 + random(UNITS.length - 1)] ?? UNITS[1]!;
    const unit = spellings[random(spellings.length)] ?? '';
    const whole = random(Math.min(2 ** 30, 2 ** 46 / multiplier));
    const digits = 1 + random(3);
    const fraction = String(random(10 ** digits)).padStart(digits, '0');
    const text = `${whole}.${fraction}${unit}`;
    const scale = 10n ** BigInt(digits);
    const exact = ((BigInt(whole) * scale + BigInt(fraction)) * BigInt(multiplier)) / scale;
    assert.equal(parseSize(text), Number(exact), text);
  }
});

test('parseSize: the documented examples, rounding down and the 8 PiB edge', () => {
  const cases: Array<[string, number]> = [
    ['512M', 512 * MiB], ['1.5G', 1.5 * GiB], ['64KiB', 64 * KiB], ['100MB', 100 * MiB], ['4096', 4096],
    ['4096B', 4096], [' 1k ', KiB], ['64 KiB', 64 * KiB], ['0', 0], ['007', 7], ['0.5K', 512],
    // a fraction of a unit rounds down to whole bytes
    ['0.1K', 102], ['1.0001K', 1024], ['0.0001K', 0],
    // the largest sizes a double holds exactly (Number.MAX_SAFE_INTEGER is 8 PiB - 1)
    ['9007199254740991', Number.MAX_SAFE_INTEGER], ['8191T', 8191 * TiB], ['8388607G', 8388607 * GiB],
  ];
  for (const [input, bytes] of cases) assert.equal(parseSize(input), bytes, input);
});

test('parseSize: bad inputs are usage errors naming the flag and the input', () => {
  const bad = [
    '', ' ', '-1', '-1K', '1.5', '1.5B', 'abc', '1e3', '1E3K', '12X', '12KX', '0x10', 'M', 'KiB', '1..5M', '1.5.2G',
    '1 2', '+5', '5MiBs', '5iB', '5Ki', 'NaN', 'Infinity', '.5K', '5.K', '1,5G', '1_000', '5P', '5PiB',
    // past 8 PiB: not a safe integer of bytes
    '9007199254740992', '8192T', '8388608G', '9999999T', '1' + '0'.repeat(30),
  ];
  for (const input of bad) assertUsage(() => parseSize(input, '--max-mem'), '--max-mem', input);
  assertUsage(() => parseSize('12X'), 'size', '12X');
});

test('parseCount: whole numbers at or above the minimum', () => {
  for (let n = 0; n < 5000; n++) assert.equal(parseCount(String(n), '--max-fds'), n);
  assert.equal(parseCount(' 8 ', '--x', 1), 8);
  assert.equal(parseCount('9007199254740991', '--x'), Number.MAX_SAFE_INTEGER);
  for (const input of ['', ' ', '-3', '1.0', '1.5', '1e2', 'ten', '0x1', '1K', '+1', '9007199254740992', '99999999999999999999']) {
    assertUsage(() => parseCount(input, '--max-fds'), '--max-fds', input);
  }
  for (let min = 1; min <= 10; min++) {
    assert.equal(parseCount(String(min), '--overrun-samples', min), min);
    assertUsage(() => parseCount(String(min - 1), '--overrun-samples', min), '--overrun-samples', String(min - 1));
  }
});

test('parseRlimitSpec: the documented forms', () => {
  const cases: Array<[string, RlimitName, number, number]> = [
    ['nofile=1024:4096', 'nofile', 1024, 4096],
    ['NOFILE=10', 'nofile', 10, 10],
    ['core=unlimited', 'core', UNLIMITED, UNLIMITED],
    ['core=0:infinity', 'core', 0, UNLIMITED],
    ['core=UNLIMITED:Infinity', 'core', UNLIMITED, UNLIMITED],
    ['as=2G', 'as', 2 * GiB, 2 * GiB],
    ['as=1.5G:2G', 'as', 1.5 * GiB, 2 * GiB],
    ['stack=8M:unlimited', 'stack', 8 * MiB, UNLIMITED],
    ['rlimit_nproc=50:60', 'nproc', 50, 60],
    ['RLIMIT_NOFILE=5', 'nofile', 5, 5],
    [' cpu = 10 : 20 ', 'cpu', 10, 20],
    ['nofile=7:7', 'nofile', 7, 7],
  ];
  for (const [spec, name, soft, hard] of cases) assert.deepEqual(parseRlimitSpec(spec), { name, limit: { soft, hard } }, spec);
});

test('parseRlimitSpec: every rlimit name, in any case, with one value, two, unlimited, and units where bytes', () => {
  for (const name of RLIMIT_NAMES) {
    const isBytes = BYTE_LIMITS.includes(name);
    for (const spelled of [name, name.toUpperCase(), `rlimit_${name}`, `RLIMIT_${name.toUpperCase()}`]) {
      assert.deepEqual(parseRlimitSpec(`${spelled}=7`), { name, limit: { soft: 7, hard: 7 } }, spelled);
      assert.deepEqual(parseRlimitSpec(`${spelled}=7:9`), { name, limit: { soft: 7, hard: 9 } }, spelled);
      assert.deepEqual(parseRlimitSpec(`${spelled}=unlimited`), { name, limit: { soft: UNLIMITED, hard: UNLIMITED } });
      assert.deepEqual(parseRlimitSpec(`${spelled}=3:unlimited`), { name, limit: { soft: 3, hard: UNLIMITED } });
    }
    if (isBytes) {
      assert.deepEqual(parseRlimitSpec(`${name}=64K:1M`), { name, limit: { soft: 64 * KiB, hard: MiB } }, name);
    } else {
      assertUsage(() => parseRlimitSpec(`${name}=64K`), '--rlimit', `${name}=64K`);
    }
    // a soft limit above the hard one, in numbers or against unlimited
    assertUsage(() => parseRlimitSpec(`${name}=9:7`), '--rlimit', `${name}=9:7`);
    assertUsage(() => parseRlimitSpec(`${name}=unlimited:7`), '--rlimit', `${name}=unlimited:7`);
    // no '=', nothing after it, a negative or a third value
    for (const spec of [name, `${name}=`, `${name}:5`, `${name} 5`, `${name}=-1`, `${name}=1:2:3`, `${name}=1:`]) {
      assertUsage(() => parseRlimitSpec(spec), '--rlimit', spec);
    }
  }
});

test('parseRlimitSpec: every soft:hard pair of a table is taken exactly when soft <= hard, unlimited the largest', () => {
  const counts: Array<[string, number]> = [
    ['0', 0], ['1', 1], ['7', 7], ['1024', 1024], ['4096', 4096], ['65536', 65536], ['unlimited', UNLIMITED], ['infinity', UNLIMITED],
  ];
  const sizes: Array<[string, number]> = [...counts, ['64K', 64 * KiB], ['1M', MiB], ['1.5G', 1.5 * GiB], ['2GiB', 2 * GiB]];
  const rank = (value: number): number => (value === UNLIMITED ? Infinity : value);
  let taken = 0, refused = 0;
  for (const name of RLIMIT_NAMES) {
    const values = BYTE_LIMITS.includes(name) ? sizes : counts;
    for (const [softText, soft] of values) {
      for (const [hardText, hard] of values) {
        const spec = `${name}=${softText}:${hardText}`;
        if (rank(soft) <= rank(hard)) {
          assert.deepEqual(parseRlimitSpec(spec), { name, limit: { soft, hard } }, spec);
          taken++;
        } else {
          assertUsage(() => parseRlimitSpec(spec), '--rlimit', spec);
          refused++;
        }
      }
    }
  }
  // 8 count limits x 8^2 pairs and 8 byte limits x 12^2, each pair decided one way or the other
  assert.equal(taken + refused, 8 * counts.length ** 2 + 8 * sizes.length ** 2);
  assert.ok(taken > 0 && refused > 0, `${taken} taken, ${refused} refused`);
});

test('parseRlimitSpec: bad specs name the flag and the whole spec as written', () => {
  for (const spec of ['', '=10', 'bogus=1', 'nofiles=1', 'rlimit_=1', 'no file=1', 'nofile=20:10', 'core=unlimited:0', 'nofile=1K', 'cpu=5s', 'as=lots', 'as=1.5', 'nofile=1.5']) {
    assertUsage(() => parseRlimitSpec(spec), '--rlimit', spec);
  }
  assertUsage(() => parseRlimitSpec('bogus=1', '--config rlimits'), '--config rlimits', 'bogus=1');
  // an unknown name is listed against the known ones
  assert.throws(() => parseRlimitSpec('bogus=1'), /unknown rlimit "bogus"; known: as, core, .*nofile/);
});

test('parseRlimitValue: sizes only where the limit counts bytes, unlimited everywhere', () => {
  for (const name of RLIMIT_NAMES) {
    const isBytes = BYTE_LIMITS.includes(name);
    for (const word of ['unlimited', 'infinity', 'UNLIMITED', ' Infinity ']) assert.equal(parseRlimitValue(name, word, '--rlimit'), UNLIMITED);
    for (let n = 0; n <= 64; n++) assert.equal(parseRlimitValue(name, String(n), '--rlimit'), n, `${name} ${n}`);
    if (isBytes) {
      assert.equal(parseRlimitValue(name, '1M', '--rlimit'), MiB, name);
      assert.equal(parseRlimitValue(name, '1.5G', '--rlimit'), 1.5 * GiB, name);
    } else {
      assertUsage(() => parseRlimitValue(name, '1K', '--rlimit'), '--rlimit', '1K');
    }
    for (const input of ['', '-1', 'lots', '1e3']) assertUsage(() => parseRlimitValue(name, input, '--rlimit'), '--rlimit', input);
  }
});

test('parseSignal: every signal of this platform by name, without SIG, in lower case, and by number', () => {
  const signals = Object.entries(constants.signals as Readonly<Record<string, number>>).filter(([name]) => name !== 'SIGUNUSED');
  assert.ok(signals.length >= 30, `${signals.length} signals`);
  for (const [name, number] of signals) {
    const short = name.slice(3);
    for (const input of [name, short, short.toLowerCase(), name.toLowerCase(), ` ${name} `]) {
      assert.equal(parseSignal(input, '--stop-signal'), name, input);
    }
    // a number gives a name for that same number (SIGIOT and SIGABRT share 6)
    const byNumber = parseSignal(String(number), '--stop-signal');
    assert.equal((constants.signals as Readonly<Record<string, number>>)[byNumber], number, `${number} -> ${byNumber}`);
  }
  const cases: Array<[string, string]> = [['15', 'SIGTERM'], ['9', 'SIGKILL'], ['1', 'SIGHUP'], ['2', 'SIGINT'], ['10', 'SIGUSR1'], ['12', 'SIGUSR2']];
  for (const [input, name] of cases) assert.equal(parseSignal(input, '--stop-signal'), name, input);
});

test('parseSignal: bad signals name the flag and the input', () => {
  for (const input of ['', ' ', 'SIGNOPE', 'TERMS', 'SIG', 'SIGSIGTERM', '0', '65', '99', '-15', '+15', '15.0', '1e1', 'SIG TERM', 'UNUSED', 'SIGUNUSED']) {
    assertUsage(() => parseSignal(input, '--stop-signal'), '--stop-signal', input);
  }
});

test('parseDuration: bare numbers in the option\'s unit, units ms s m h combinable as systemd writes them, refusals named', () => {
  const rows: Array<[string, number, number]> = [
    ['5000', 1, 5000], ['5000', 1000, 5_000_000], ['5s', 1, 5000], ['500ms', 1, 500], ['1m30s', 1, 90_000], ['1min 30s', 1, 90_000],
    ['2h', 1, 7_200_000], ['1.5s', 1, 1500], ['1.1s', 1, 1100], ['0.5m', 1, 30_000], [' 10 s ', 1, 10_000], ['1h 1m 1s 1ms', 1, 3_661_001],
    ['90s', 1000, 90_000], ['10m', 1000, 600_000], ['3 seconds', 1, 3000], ['1 hour', 1, 3_600_000], ['0', 1, 0], ['0s', 1, 0],
  ];
  for (const [text, unit, ms] of rows) assert.equal(parseDuration(text, '--kill-timeout', unit), ms, text);
  for (const bad of ['', 's', '5x', '5 s s', '-5s', '1.5', '0.5ms', '5s garbage', 'ms5', '1e3s', '5sec5']) {
    assert.throws(() => parseDuration(bad, '--kill-timeout'), (error: unknown) => error instanceof UsageError && error.flag === '--kill-timeout'
      && /expected a duration: a number of ms, or with units ms, s, m, h \(5s, 1m30s\)/.test(error.message), bad);
  }
});
