// The one options schema, pure: defaults, every value in every accepted shape, folding, the two sources, and
// errors that name the flag (or the file's key) and the value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeOptions, parseConfigText } from '../../src/core/config.js';
import { DEFAULTS, FLAGS, resolveOptions, type Origins, type ResolvedOptions } from '../../src/core/options.js';
import { MAX_ARGS, MAX_ENV, MAX_LISTEN, MAX_NESTING } from '../../src/core/parse.js';
import { MAX_SHOWN, UsageError } from '../../src/core/errors.js';
import { UNLIMITED } from '../../src/core/limits.js';
import type { Options } from '../../src/core/types.js';

type Key = keyof Options;
const resolve = (options: Record<string, unknown>, origins?: Origins): ResolvedOptions =>
  resolveOptions({ program: 'x', ...options } as Options, origins);

/** Asserts a UsageError whose message starts with `name:` and shows the value. */
function assertUsage(action: () => unknown, name: string, shown: string, label = `${name} ${shown}`): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof UsageError, `${label}: ${String(error)}`);
    assert.ok(error.message.startsWith(`${name}: `), `${label}: ${error.message}`);
    assert.ok(error.message.includes(shown), `${label}: "${error.message}" shows ${shown}`);
    assert.ok(!error.message.includes('\n'), `${label}: one line`);
    return true;
  });
}

test('the defaults are those of the contract', () => {
  assert.deepEqual(DEFAULTS, {
    sampleInterval: 100, overrunSamples: 1, restart: 'on-failure', maxRestarts: 10, restartWindow: 60, minUptime: 1000, restartDelay: 0, maxRestartDelay: 10_000,
    killTimeout: 5000, stopSignal: 'SIGTERM', parentDeathSignal: 'SIGKILL', reload: 'restart', socketMode: 0o666, readyTimeout: 30_000, logLevel: 'info',
    logKeep: 5, logEvents: 'stderr',
  });
  assert.deepEqual(resolveOptions({ program: 'x' }), {
    program: 'x', args: [], maxMem: null, cgroup: false, maxVmem: null, maxFds: null, rlimits: {},
    // DESIGN.md's table
    sampleInterval: 100, overrunSamples: 1, restart: 'on-failure', maxRestarts: 10, restartWindow: 60, killTimeout: 5000,
    stopSignal: 'SIGTERM', parentDeathSignal: 'SIGKILL', reload: 'restart', rewrite: {},
    minUptime: 1000, restartDelay: 0, maxRestartDelay: 10_000, user: null, group: null, cwd: null, env: {}, envFile: [], clearEnv: false, listen: [], socketMode: 0o666,
    ready: { kind: 'exec' }, readyTimeout: 30_000, logFile: null, terminationLog: null, logFormat: null, logLevel: 'info',
    logTimestamps: false, logStreamTag: false, logMaxSize: null, logKeep: 5, logEvents: 'stderr',
    // off unless asked for
    watchdog: null, metrics: null,
  });
});

test('every key, in every shape it takes', () => {
  const table: Array<[Key, unknown, unknown]> = [
    // sizes: bytes as a number or a string, binary suffixes in every spelling (--max-mem's least is 1M, so the
    // small ones are --max-vmem's, which parses them the same)
    ['maxVmem', 4096, 4096], ['maxVmem', '4096', 4096], ['maxVmem', '4096B', 4096], ['maxMem', '512M', 512 * 2 ** 20],
    ['maxMem', '512m', 512 * 2 ** 20], ['maxMem', '1.5G', 1.5 * 2 ** 30], ['maxVmem', '64KiB', 65_536], ['maxMem', '100MB', 100 * 2 ** 20],
    ['maxMem', '2T', 2 * 2 ** 40], ['maxVmem', ' 1K ', 1024], ['maxMem', '512 M', 512 * 2 ** 20], ['maxVmem', '0.5K', 512],
    ['maxMem', 2 ** 20, 2 ** 20], ['maxMem', '1048576', 2 ** 20], ['maxMem', '1024K', 2 ** 20],
    // counts and durations: numbers or whole-number strings
    ['sampleInterval', 50, 50], ['sampleInterval', '250', 250], ['overrunSamples', '3', 3], ['overrunSamples', 1, 1],
    ['maxRestarts', 0, 0], ['maxRestarts', '0', 0], ['maxRestarts', '25', 25], ['restartWindow', '1', 1], ['restartWindow', 3600, 3600],
    ['maxRestartDelay', 0, 0], ['maxRestartDelay', '30000', 30_000], ['killTimeout', 0, 0], ['killTimeout', ' 200 ', 200],
    // durations with units, in flags and config alike; --restart-window's bare unit is the second
    ['killTimeout', '5s', 5000], ['killTimeout', '1m30s', 90_000], ['killTimeout', '1min 30s', 90_000], ['minUptime', '1.5s', 1500],
    ['restartWindow', '10m', 600], ['restartWindow', '90s', 90], ['watchdog', '2s', 2000], ['sampleInterval', '250ms', 250],
    ['readyTimeout', '1', 1],
    // the longest delay Node's timers hold (2^31 - 1 ms, about 24.8 days)
    ['killTimeout', 2 ** 31 - 1, 2 ** 31 - 1], ['killTimeout', '2147483647', 2 ** 31 - 1], ['sampleInterval', 2 ** 31 - 1, 2 ** 31 - 1],
    ['maxRestartDelay', '2147483647', 2 ** 31 - 1], ['readyTimeout', 2 ** 31 - 1, 2 ** 31 - 1],
    // words
    ['restart', 'always', 'always'], ['restart', 'never', 'never'], ['restart', 'on-failure', 'on-failure'],
    ['reload', 'signal', 'signal'], ['logFormat', 'json', 'json'], ['logFormat', 'pretty', 'pretty'], ['logLevel', 'debug', 'debug'],
    ['logLevel', 'silent', 'silent'], ['clearEnv', true, true], ['clearEnv', false, false],
    // signals: a name with or without SIG, any case, or a number
    ['stopSignal', 'SIGINT', 'SIGINT'], ['stopSignal', 'QUIT', 'SIGQUIT'], ['stopSignal', 'usr2', 'SIGUSR2'], ['stopSignal', 15, 'SIGTERM'],
    ['stopSignal', '9', 'SIGKILL'],
    ['rewrite', 'SIGTERM:SIGINT', { SIGTERM: 'SIGINT' }], ['rewrite', ['TERM:INT'], { SIGTERM: 'SIGINT' }], ['rewrite', { SIGTERM: 'SIGINT' }, { SIGTERM: 'SIGINT' }],
    // identities: a name, or a numeric id as a number or digits
    ['user', 'www-data', 'www-data'], ['user', '1000', 1000], ['user', 0, 0], ['group', 'adm', 'adm'], ['group', '0', 0],
    ['user', 2 ** 32 - 2, 2 ** 32 - 2], ['group', '4294967294', 2 ** 32 - 2],
    // env files: a path, or a list; a `-` before one makes it optional
    ['envFile', '/etc/app.env', [{ path: '/etc/app.env', optional: false, text: '/etc/app.env' }]],
    ['envFile', ['-/etc/app.env', 'local.env'], [{ path: '/etc/app.env', optional: true, text: '-/etc/app.env' }, { path: 'local.env', optional: false, text: 'local.env' }]],
    ['envFile', [], []],
    ['cwd', '/srv', '/srv'], ['logFile', '/var/log/x.log', '/var/log/x.log'], ['program', '/usr/sbin/lighttpd', '/usr/sbin/lighttpd'],
    ['args', ['-D', '-f', 'a b'], ['-D', '-f', 'a b']],
    ['socketMode', '0660', 0o660], ['socketMode', '600', 0o600], ['socketMode', 0o600, 0o600], ['socketMode', '0777', 0o777], ['socketMode', '0000', 0],
    ['ready', 'exec', { kind: 'exec' }], ['ready', 'fd', { kind: 'fd' }], ['ready', 'tcp:8080', { kind: 'tcp', host: '127.0.0.1', port: 8080 }],
    ['ready', 'tcp:10.0.0.1:80', { kind: 'tcp', host: '10.0.0.1', port: 80 }], ['ready', 'delay:50', { kind: 'delay', ms: 50 }], ['ready', 'delay:2s', { kind: 'delay', ms: 2000 }],
    ['ready', 'notify', { kind: 'notify' }], ['watchdog', '500', 500], ['watchdog', 30_000, 30_000],
    // metrics: the machine's own loopback unless the address names a host
    ['metrics', '9100', { kind: 'inet', name: 'listen0', family: 4, address: '127.0.0.1', port: 9100, text: '127.0.0.1:9100', dualStack: false }],
    ['metrics', '0.0.0.0:9100', { kind: 'inet', name: 'listen0', family: 4, address: '0.0.0.0', port: 9100, text: '0.0.0.0:9100', dualStack: false }],
    ['metrics', '[::1]:9100', { kind: 'inet', name: 'listen0', family: 6, address: '::1', port: 9100, text: '[::1]:9100', dualStack: false }],
    ['metrics', 'unix:/run/m.sock', { kind: 'unix', name: 'listen0', path: '/run/m.sock', text: 'unix:/run/m.sock' }],
    // a relative path is kept as given: core reads no working directory; the bind resolves it
    ['metrics', 'unix:run/m.sock', { kind: 'unix', name: 'listen0', path: 'run/m.sock', text: 'unix:run/m.sock' }],
    ['listen', '8080', [{ kind: 'inet', name: 'listen0', family: 6, address: '::', port: 8080, text: '8080', dualStack: true }]],
    ['listen', ['127.0.0.1:80', 'admin=[::1]:81', 'unix:/run/x.sock'], [
      { kind: 'inet', name: 'listen0', family: 4, address: '127.0.0.1', port: 80, text: '127.0.0.1:80', dualStack: false },
      { kind: 'inet', name: 'admin', family: 6, address: '::1', port: 81, text: 'admin=[::1]:81', dualStack: false },
      { kind: 'unix', name: 'listen2', path: '/run/x.sock', text: 'unix:/run/x.sock' },
    ]],
  ];
  for (const [key, value, expected] of table) {
    const resolved = resolve({ [key]: value });
    assert.deepEqual(resolved[key as keyof ResolvedOptions], expected, `${key}: ${JSON.stringify(value)}`);
  }
});

test('the shape of --log-file\'s lines, its rotation and events in it need --log-file: without it the child writes to angel\'s stdout and stderr itself', () => {
  const logFile = '/var/log/app.log';
  assert.deepEqual(
    (({ logTimestamps, logStreamTag, logMaxSize, logKeep }) => ({ logTimestamps, logStreamTag, logMaxSize, logKeep }))(
      resolve({ logFile, logTimestamps: true, logStreamTag: true, logMaxSize: '10M', logKeep: '3' }),
    ),
    { logTimestamps: true, logStreamTag: true, logMaxSize: 10 * 2 ** 20, logKeep: 3 },
  );
  for (const [key, value, shown] of [['logTimestamps', true, 'true'], ['logStreamTag', true, 'true'], ['logMaxSize', '10M', '"10M"'], ['logEvents', 'both', '"both"']] as const) {
    assertUsage(() => resolve({ [key]: value }), FLAGS[key], shown);
    assert.throws(() => resolve({ [key]: value }), /expected with --log-file/);
    const file = parseConfigText(JSON.stringify({ program: 'x', [key]: value }), 'angel.json');
    assertUsage(() => resolveOptions(file.options as Options, file.origins), `angel.json: ${key}`, shown);
  }
  // off, they need nothing
  assert.equal(resolve({ logTimestamps: false, logKeep: 9, logEvents: 'stderr' }).logKeep, 9);
  assert.equal(resolve({ logFile, logEvents: 'file' }).logEvents, 'file');
});

test('maxVmem and maxFds fold into rlimits.as and rlimits.nofile with soft = hard, and win over rlimits', () => {
  assert.deepEqual(resolve({ maxVmem: '1G' }).rlimits, { as: { soft: 2 ** 30, hard: 2 ** 30 } });
  assert.deepEqual(resolve({ maxVmem: 8192 }).rlimits, { as: { soft: 8192, hard: 8192 } });
  assert.deepEqual(resolve({ maxFds: 64 }).rlimits, { nofile: { soft: 64, hard: 64 } });
  assert.deepEqual(resolve({ maxFds: '128' }).rlimits, { nofile: { soft: 128, hard: 128 } });
  assert.deepEqual(resolve({ maxVmem: '2G', maxFds: 10, rlimits: { as: 1, nofile: { soft: 1, hard: 2 }, core: 0 } }).rlimits, {
    as: { soft: 2 * 2 ** 30, hard: 2 * 2 ** 30 }, nofile: { soft: 10, hard: 10 }, core: { soft: 0, hard: 0 },
  });
  assert.deepEqual(resolve({ maxFds: 10, rlimits: ['nofile=1:2'] }).rlimits, { nofile: { soft: 10, hard: 10 } });
  // maxMem is the tree's RSS cap, not an rlimit
  assert.deepEqual(resolve({ maxMem: '1G' }).rlimits, {});
});

test('rlimits from specs and from an object', () => {
  const table: Array<[Options['rlimits'], ResolvedOptions['rlimits']]> = [
    [{ core: 0 }, { core: { soft: 0, hard: 0 } }],
    [{ nofile: { soft: 10, hard: 20 } }, { nofile: { soft: 10, hard: 20 } }],
    [{ core: 'unlimited' }, { core: { soft: UNLIMITED, hard: UNLIMITED } }],
    [{ as: '1G', stack: '8M', cpu: 30 }, { as: { soft: 2 ** 30, hard: 2 ** 30 }, stack: { soft: 8 * 2 ** 20, hard: 8 * 2 ** 20 }, cpu: { soft: 30, hard: 30 } }],
    // a config file may spell a limit inside { soft, hard } as text too
    [{ nofile: { soft: 1024, hard: 'unlimited' } } as unknown as Options['rlimits'], { nofile: { soft: 1024, hard: UNLIMITED } }],
    [{ nproc: '100' }, { nproc: { soft: 100, hard: 100 } }],
    // as parseRlimitSpec does, names are case-insensitive, and the limit lands under the name spawn reads
    [{ NOFILE: 7 } as Options['rlimits'], { nofile: { soft: 7, hard: 7 } }],
    [{}, {}],
    [['nofile=1024:4096', 'core=unlimited', 'as=2G', 'RLIMIT_NPROC=5'], {
      nofile: { soft: 1024, hard: 4096 }, core: { soft: UNLIMITED, hard: UNLIMITED }, as: { soft: 2 * 2 ** 30, hard: 2 * 2 ** 30 }, nproc: { soft: 5, hard: 5 },
    }],
    [['core=0', 'core=1M'], { core: { soft: 2 ** 20, hard: 2 ** 20 } }],
    [[], {}],
  ];
  for (const [rlimits, expected] of table) assert.deepEqual(resolve({ rlimits }).rlimits, expected, JSON.stringify(rlimits));
});

test('env from KEY=VALUE entries and from an object', () => {
  const table: Array<[Options['env'], Record<string, string>]> = [
    [['K=V'], { K: 'V' }],
    [['B=2=3', 'C=', 'D=multi\nline'], { B: '2=3', C: '', D: 'multi\nline' }],
    [['A=1', 'A=2'], { A: '2' }],
    [{ A: '1', PATH: '/bin' }, { A: '1', PATH: '/bin' }],
    [{ EMPTY: '' }, { EMPTY: '' }],
    [[], {}],
    [{}, {}],
  ];
  for (const [env, expected] of table) assert.deepEqual(resolve({ env }).env, expected, JSON.stringify(env));
});

/** [key, value, what the message shows (defaults to the value as JSON)]. */
const BAD: Array<[Key, unknown, string?]> = [
  ['maxMem', '12X'], ['maxMem', 0], ['maxMem', -5], ['maxMem', '0'], ['maxMem', '-1'], ['maxMem', '1.5'], ['maxMem', '1e3'],
  ['maxMem', 4096], ['maxMem', '100'], ['maxMem', '1023K'],
  ['maxMem', ''], ['maxMem', 'lots'], ['maxMem', '9P'], ['maxMem', '8192T'], ['maxMem', '0.0001K'], ['maxMem', 1.5], ['maxMem', true],
  ['maxMem', null], ['maxMem', []], ['maxMem', {}], ['maxMem', NaN, 'NaN'], ['maxMem', Infinity, 'Infinity'], ['maxMem', 10n, '10n'],
  ['maxVmem', 'big'], ['maxVmem', 0], ['maxVmem', '0'], ['maxVmem', '1.5'],
  ['maxFds', '0'], ['maxFds', 0], ['maxFds', 1.5], ['maxFds', '-3'], ['maxFds', 'many'], ['maxFds', '0x10'], ['maxFds', '1e3'],
  ['maxFds', '99999999999999999999'],
  ['rlimits', ['bogus=1'], '"bogus=1"'], ['rlimits', ['nofile'], '"nofile"'], ['rlimits', ['nofile=x'], '"nofile=x"'],
  ['rlimits', ['nofile=20:10'], '"nofile=20:10"'], ['rlimits', ['core=1.5'], '"core=1.5"'], ['rlimits', ['nofile=-1'], '"nofile=-1"'],
  ['rlimits', [''], '""'], ['rlimits', [5], '5'], ['rlimits', 'core=0'], ['rlimits', 5], ['rlimits', null],
  ['rlimits', { bogus: 1 }, '"bogus"'], ['rlimits', { nofile: -1 }, '"-1"'], ['rlimits', { nofile: 'many' }, '"many"'],
  ['rlimits', { nofile: { soft: 20, hard: 10 } }, '"nofile=20:10"'], ['rlimits', { nofile: { soft: 10 } }, '{"soft":10}'],
  ['rlimits', { nofile: null }, 'null'], ['rlimits', { core: true }, 'true'],
  ['sampleInterval', '0'], ['sampleInterval', 0], ['sampleInterval', -1], ['sampleInterval', 'fast'], ['sampleInterval', 2.5],
  ['overrunSamples', 'x'], ['overrunSamples', 0],
  ['restart', 'sometimes'], ['restart', ''], ['restart', 1], ['restart', null],
  ['maxRestarts', '-1'], ['maxRestarts', -1], ['maxRestarts', 'ten'], ['maxRestarts', 1.5], ['maxRestarts', NaN, 'NaN'],
  ['restartWindow', 0], ['restartWindow', '0'], ['restartWindow', 'minute'], ['restartWindow', '60.5s'],
  ['maxRestartDelay', -1], ['maxRestartDelay', 'long'],
  ['killTimeout', 'soon'], ['killTimeout', -1], ['killTimeout', '5x'], ['killTimeout', '-5s'], ['killTimeout', Infinity, 'Infinity'], ['restartWindow', '500ms'], ['restartWindow', '0s'],
  ['stopSignal', 'SIGNOPE'], ['stopSignal', 'NOPE'], ['stopSignal', ''], ['stopSignal', 0, '"0"'], ['stopSignal', 999, '"999"'],
  ['stopSignal', '1.5'], ['stopSignal', ['TERM']], ['stopSignal', true], ['stopSignal', {}],
  ['reload', 'later'], ['reload', 'SIGHUP'],
  ['user', ''], ['user', -1], ['user', 1.5], ['user', true], ['user', 'a\0b'], ['group', ''], ['group', -2],
  // past uid_t an id wraps (getpwnam(2^32) is root's entry), and (uid_t)-1 means "no change"
  ['user', 2 ** 32], ['user', '4294967296', '"4294967296"'], ['user', '4294967295', '"4294967295"'], ['group', 2 ** 32 - 1],
  ['group', '18446744073709551616', '"18446744073709551616"'],
  ['cwd', ''], ['cwd', 5], ['cwd', 'a\0b'], ['program', ''], ['program', 5], ['program', '/bin/a\0b'],
  ['args', 'a b'], ['args', ['a', 1]], ['args', ['a\0b']],
  ['env', ['NOEQUALS'], '"NOEQUALS"'], ['env', ['=V'], '"=V"'], ['env', [1], '1'], ['env', 'A=1'], ['env', 5],
  ['env', { A: 1 }, '"A=1"'], ['env', { '': 'x' }, '"=x"'], ['env', { 'A=B': 'c' }, '"A=B=c"'],
  ['env', { A: 'b\0c' }, JSON.stringify('A=b\0c')], ['env', ['A=b\0c'], JSON.stringify('A=b\0c')],
  // an object cannot hold it as a plain key: refused rather than dropped
  ['env', ['__proto__=x'], '"__proto__=x"'], ['env', JSON.parse('{"__proto__": "x"}'), '"__proto__=x"'],
  ['clearEnv', 'true'], ['clearEnv', 1],
  ['envFile', ''], ['envFile', '-'], ['envFile', ['-'], '"-"'], ['envFile', 5], ['envFile', [5], '5'], ['envFile', ['a\0b'], JSON.stringify('a\0b')],
  ['envFile', Array.from({ length: 65 }, () => 'x'), '65'],
  ['listen', ['nowhere'], '"nowhere"'], ['listen', ['example.com:80'], '"example.com:80"'], ['listen', ['70000'], '"70000"'],
  ['listen', ['unix:'], '"unix:"'], ['listen', 8080], ['listen', ['a=1', 'a=2']], ['listen', [''], '""'],
  ['socketMode', '999'], ['socketMode', '0o777'], ['socketMode', 0o10000], ['socketMode', '04777'], ['socketMode', 0o1777], ['socketMode', -1], ['socketMode', 'rw'], ['socketMode', 1.5],
  ['watchdog', '0'], ['watchdog', 'soon'], ['watchdog', -1], ['metrics', 'x=9100'], ['metrics', 'example.org:80'], ['metrics', '70000'],
  ['metrics', ''], ['metrics', 9100],
  ['ready', 'soon'], ['ready', 'tcp:0'], ['ready', 'tcp:70000'], ['ready', 'delay:x'], ['ready', ''], ['ready', 5],
  ['readyTimeout', 0], ['readyTimeout', 'x'],
  // past 2^31 - 1 ms a Node timer fires after 1 ms: a long kill timeout would SIGKILL at once
  ['killTimeout', 2 ** 31], ['killTimeout', '3000000000'], ['sampleInterval', '2147483648'], ['sampleInterval', 3e9],
  ['maxRestartDelay', 2 ** 31], ['readyTimeout', '99999999999'],
  ['logFile', ''], ['logFile', 5], ['logFormat', 'xml'], ['logFormat', true], ['logLevel', 'verbose'],
  ['logTimestamps', 'yes'], ['logStreamTag', 1], ['logMaxSize', 0], ['logMaxSize', 'big'], ['logMaxSize', '-1M'],
  // every rotation renames each kept file
  ['logKeep', 0], ['logKeep', 1001], ['logKeep', 'all'], ['logKeep', 1.5], ['logEvents', 'syslog'], ['logEvents', true],
];
const shown = (value: unknown, explicit: string | undefined): string => explicit ?? JSON.stringify(value);

test('every bad value is a UsageError naming the flag and showing the value', () => {
  for (const [key, value, explicit] of BAD) {
    assertUsage(() => resolve({ [key]: value }), FLAGS[key], shown(value, explicit), `${key} ${String(value)}`);
  }
});

test('a delay longer than a Node timer holds is refused with the range, not fired after 1 ms', () => {
  for (const key of ['sampleInterval', 'killTimeout', 'maxRestartDelay', 'readyTimeout'] as const) {
    assert.throws(() => resolve({ [key]: 2 ** 31 }), {
      name: 'UsageError', message: new RegExp(`^${FLAGS[key]}: expected a duration from [01] ms to 2147483647 ms \\(24\\.8 days\\), got 2147483648$`),
    }, key);
    assert.equal(resolve({ [key]: 2 ** 31 - 1 })[key], 2 ** 31 - 1, key);
  }
});

test('from a config file the same errors name the file and the key', () => {
  for (const [key, value, explicit] of BAD) {
    // what JSON cannot carry cannot come from a file
    if (typeof value === 'bigint' || (typeof value === 'number' && !Number.isFinite(value))) continue;
    const json = JSON.stringify({ program: 'x', [key]: value });
    const file = parseConfigText(json, 'angel.json');
    assert.equal(file.origins[key], `angel.json: ${key}`);
    assertUsage(() => resolveOptions(file.options as Options, file.origins), `angel.json: ${key}`, shown(value, explicit));
  }
  // the path as given
  const nested = parseConfigText('{"program": "x", "killTimeout": "soon"}', '/etc/angel/site.json');
  assertUsage(() => resolveOptions(nested.options as Options, nested.origins), '/etc/angel/site.json: killTimeout', '"soon"');
});

test('unknown keys: refused in a file naming the file and the key, and from the API', () => {
  for (const key of ['maxMemory', 'max-mem', 'MaxMem', 'toString', 'constructor', '__proto__', 'hasOwnProperty', '']) {
    const json = `{"program": "x", ${JSON.stringify(key)}: 1}`;
    assertUsage(() => parseConfigText(json, 'angel.json'), `angel.json: ${key}`, '1', key);
    assert.throws(() => parseConfigText(json, 'angel.json'), /unknown key/);
  }
  assertUsage(() => resolve({ maxMemory: '1G' }), 'maxMemory', '"1G"');
  assert.throws(() => resolve({ maxMemory: '1G' }), /unknown option/);
});

test('a config file must be a JSON object', () => {
  for (const text of ['{not json', '', 'maxMem: 1G', '{"maxMem": 1,}', "{'maxMem': 1}"]) {
    assertUsage(() => parseConfigText(text, 'angel.json'), '--config', '"angel.json"', JSON.stringify(text));
    assert.throws(() => parseConfigText(text, 'angel.json'), /expected JSON/);
  }
  for (const text of ['[1]', '[]', '"x"', '1', 'null', 'true']) {
    assertUsage(() => parseConfigText(text, 'angel.json'), '--config', '"angel.json"', text);
    assert.throws(() => parseConfigText(text, 'angel.json'), /expected a JSON object of options/);
  }
  assert.deepEqual(parseConfigText('{}', 'angel.json'), { options: {}, origins: {} });
  assert.deepEqual(parseConfigText('{"program": "/bin/x", "maxMem": "1G"}', 'a.json'), {
    options: { program: '/bin/x', maxMem: '1G' },
    origins: { program: 'a.json: program', maxMem: 'a.json: maxMem' },
  });
});

test('mergeOptions: flags win key by key, and an overridden key is named by its flag again', () => {
  const file = parseConfigText(JSON.stringify({ program: 'a', maxMem: '1G', killTimeout: 100, env: { A: '1' } }), 'angel.json');
  const { options, origins } = mergeOptions(file, { maxMem: '2G', program: 'b', restart: 'always', killTimeout: undefined });
  assert.deepEqual(options, { program: 'b', maxMem: '2G', killTimeout: 100, env: { A: '1' }, restart: 'always' });
  assert.deepEqual(origins, { killTimeout: 'angel.json: killTimeout', env: 'angel.json: env', envFromFile: ['A'] });
  const resolved = resolveOptions(options, origins);
  assert.equal(resolved.maxMem, 2 * 2 ** 30);
  assert.equal(resolved.killTimeout, 100, 'an undefined flag does not override the file');
  assert.equal(resolved.restart, 'always');

  // a bad value: named by the flag when the flag gave it, by the file's key when the file did
  assertUsage(() => {
    const bad = mergeOptions(file, { maxMem: 'nope' });
    resolveOptions(bad.options, bad.origins);
  }, '--max-mem', '"nope"');
  assertUsage(() => {
    const bad = mergeOptions(parseConfigText('{"program": "a", "killTimeout": "soon"}', 'angel.json'), { maxMem: '1G' });
    resolveOptions(bad.options, bad.origins);
  }, 'angel.json: killTimeout', '"soon"');

  // env is merged variable by variable, a flag's value winning; the file's own are recorded
  const both = mergeOptions(file, { env: ['B=2', 'A=3'] });
  assert.deepEqual(both.options.env, { A: '3', B: '2' });
  assert.deepEqual(both.origins.envFromFile, []);
  assert.deepEqual(mergeOptions(parseConfigText('{"env": {"A": "1", "C": "4"}}', 'angel.json'), { env: ['B=2'] }).origins.envFromFile, ['A', 'C']);

  // the file is left as it was; no file at all is the flags alone
  assert.equal(file.options.maxMem, '1G');
  assert.equal(file.origins.maxMem, 'angel.json: maxMem');
  assert.deepEqual(mergeOptions(null, { program: 'x', maxFds: 5 }), { options: { program: 'x', maxFds: 5 }, origins: {} });
});

test('resolveOptions neither changes nor keeps its input', () => {
  const args = ['-D'];
  const input: Options = Object.freeze({ program: 'x', args, env: Object.freeze(['A=1']), rlimits: Object.freeze(['core=0']) });
  const resolved = resolveOptions(input);
  assert.notEqual(resolved.args, args);
  args.push('-x');
  assert.deepEqual(resolved.args, ['-D']);
});

test('--ready delay past 2^31-1 ms is refused (a Node timer would fire it after 1 ms)', () => {
  assert.deepEqual(resolveOptions({ program: 'x', ready: 'delay:2147483647' }).ready, { kind: 'delay', ms: 2 ** 31 - 1 });
  assert.throws(() => resolveOptions({ program: 'x', ready: 'delay:2147483648' }), /^UsageError: --ready: .*"delay:2147483648"/);
});

test('values nested deeper than MAX_NESTING are refused naming the key, from a file and from the API', () => {
  const nest = (levels: number): unknown => (levels === 0 ? 'x' : [nest(levels - 1)]);
  for (const key of ['env', 'rlimits', 'args', 'listen', 'maxMem', 'program'] as const) {
    for (const levels of [MAX_NESTING + 1, 5000, 100_000]) {
      const json = `{"program": "x", "${key}": ${'['.repeat(levels)}1${']'.repeat(levels)}}`;
      const file = parseConfigText(json, 'angel.json');
      assert.throws(() => resolveOptions(file.options as Options, file.origins), {
        name: 'UsageError', message: new RegExp(`^angel\\.json: ${key}: expected a value nested at most ${MAX_NESTING} levels deep, got `),
      }, `${key} ${levels}`);
    }
    assertUsage(() => resolve({ [key]: nest(MAX_NESTING + 1) }), FLAGS[key], 'expected a value nested', key);
  }
  // a cycle, from the API, is nested without end
  const cycle: Record<string, unknown> = {};
  cycle.A = cycle;
  assert.throws(() => resolve({ env: cycle }), /^UsageError: --env: expected a value nested at most 8 levels deep, got \[object Object\]$/);
  // the deepest value any key takes
  assert.deepEqual(resolve({ rlimits: { nofile: { soft: 1, hard: 2 } } }).rlimits, { nofile: { soft: 1, hard: 2 } });
});

test('counts past what the addon\'s spawn takes are refused naming the key and the count', () => {
  assert.throws(() => resolve({ args: Array.from({ length: MAX_ARGS + 1 }, () => 'a') }),
    { name: 'UsageError', message: `[args...]: expected at most ${MAX_ARGS} arguments, got ${MAX_ARGS + 1}` });
  assert.equal(resolve({ args: Array.from({ length: MAX_ARGS }, () => 'a') }).args.length, MAX_ARGS);
  const listen = (count: number): string[] => Array.from({ length: count }, (_, i) => `127.0.0.1:${i}`);
  assert.throws(() => resolve({ listen: listen(MAX_LISTEN + 1) }),
    { name: 'UsageError', message: `--listen: expected at most ${MAX_LISTEN} sockets, got ${MAX_LISTEN + 1}` });
  assert.equal(resolve({ listen: listen(MAX_LISTEN) }).listen.length, MAX_LISTEN);
  const env = (count: number): string[] => Array.from({ length: count }, (_, i) => `K${i}=`);
  assert.throws(() => resolve({ env: env(MAX_ENV + 1) }),
    { name: 'UsageError', message: `--env: expected at most ${MAX_ENV} variables, got ${MAX_ENV + 1}` });
  assert.throws(() => resolve({ env: Object.fromEntries(env(MAX_ENV + 1).map((entry) => [entry.slice(0, -1), ''])) }), /--env: expected at most/);
  assert.equal(Object.keys(resolve({ env: env(MAX_ENV) }).env).length, MAX_ENV);
});

test('a usage error is one readable line, however long the value or the key, whatever they hold', () => {
  const long = new UsageError('--max-mem', 'a'.repeat(10 * 2 ** 20), 'expected a size');
  assert.equal(long.message, `--max-mem: expected a size, got "${'a'.repeat(MAX_SHOWN - 1)}…(10485760 bytes)`);
  const key = new UsageError(`angel.json: ${'k'.repeat(10_000)}`, 1, 'unknown key');
  assert.equal(key.message, `angel.json: ${'k'.repeat(MAX_SHOWN - 'angel.json: '.length)}…(10012 bytes): unknown key, got 1`);
  // JSON.stringify escapes C0 controls; a terminal or a line reader also breaks lines at these
  const breaks = new UsageError('a\nb.json: k\r', 'x\n\r\u2028\u2029\u0085\u007f\u001b', 'expected (a\nb)');
  assert.equal(breaks.message, 'a\\nb.json: k\\r: expected (a\\nb), got "x\\n\\r\\u2028\\u2029\\u0085\\u007f\\u001b"');
  // a cut never splits an escape or a surrogate pair
  for (let pad = 0; pad < 8; pad++) {
    for (const unit of ['\n', '\u0001', '😀', '"']) {
      const message = new UsageError('--x', 'p'.repeat(pad) + unit.repeat(400), 'e').message;
      const shown = message.slice(message.indexOf('got ') + 4, message.indexOf('…'));
      assert.ok(shown.length <= MAX_SHOWN, `${pad} ${JSON.stringify(unit)}: ${shown.length}`);
      assert.doesNotThrow(() => JSON.parse(`${shown}"`), `${pad} ${JSON.stringify(unit)}: ${shown}`);
    }
  }
  // short values are shown whole, as before
  assert.equal(new UsageError('--x', 'a'.repeat(MAX_SHOWN - 2), 'e').message, `--x: e, got "${'a'.repeat(MAX_SHOWN - 2)}"`);
});
