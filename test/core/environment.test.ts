// The child's environment, pure: what angel's own activation takes out, the allowlist a user angel is root
// for is held to (sudo's env_check), and dotenv files' text, row by row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowedForUser, childEnvironment, childEnvironmentForRoot, parseEnvText } from '../../src/core/environment.js';
import { UsageError } from '../../src/core/errors.js';

test('childEnvironment: angel\'s own activation variables are not passed on; --env is added; clear keeps PATH', () => {
  const base = { PATH: '/bin', HOME: '/root', LISTEN_FDS: '2', LISTEN_PID: '9', NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '1', NODE_CHANNEL_FD: '3', ANGEL_GENERATION: '4', ANGEL_INSTANCE: 'angel.0123', KEEP: 'yes' };
  assert.deepEqual(childEnvironment(base, { EXTRA: '1' }), { PATH: '/bin', HOME: '/root', KEEP: 'yes', EXTRA: '1' });
  assert.deepEqual(childEnvironment(base, { EXTRA: '1' }, true), { PATH: '/bin', EXTRA: '1' });
});

test('allowedForUser: the names on the list, each with a value of its shape; everything else is refused', () => {
  const rows: Array<[string, string, boolean]> = [
    ['TERM', 'xterm-256color', true], ['TERM', '../x', false], ['TERM', 'x/y', false], ['TERM', '', false],
    ['COLORTERM', 'truecolor', true], ['NO_COLOR', '1', true], ['NO_COLOR', '', true], ['NO_COLOR', '$(id)', false],
    ['LANG', 'C.UTF-8', true], ['LANG', 'en_US.UTF-8', true], ['LANG', 'de_DE@euro', true], ['LANG', '/tmp/locale', false],
    ['LANG', '..', false], ['LANG', 'a..b', false], ['LANG', 'C%s', false], ['LC_ALL', 'C', true], ['LC_TIME', 'en_GB.UTF-8', true],
    ['LC_ALL', '/tmp/x', false], ['LANGUAGE', 'de:en', true], ['LANGUAGE', '../../tmp/x', false], ['LANGUAGE', 'de:/tmp', false],
    ['TZ', 'Europe/Berlin', true], ['TZ', 'UTC', true], ['TZ', ':Europe/Berlin', true], ['TZ', 'EST5EDT,M3.2.0,M11.1.0', true],
    ['TZ', '/etc/localtime', false], ['TZ', '../../tmp/zone', false], ['TZ', 'a/../../b', false],
    ['COLUMNS', '80', true], ['LINES', '24', true], ['COLUMNS', 'wide', false],
    ['PATH', '/usr/bin', false], ['HOME', '/root', false], ['LD_PRELOAD', 'x', false], ['NODE_OPTIONS', '', false], ['PYTHONWARNINGS', 'x', false],
    ['BROWSER', 'x', false], ['PAGER', 'less', false], ['LESSOPEN', 'x', false], ['TERMINFO', 'x', false], ['SSL_CERT_FILE', 'x', false],
    ['GIO_EXTRA_MODULES', 'x', false], ['NODE_TLS_REJECT_UNAUTHORIZED', '0', false], ['NODE_V8_COVERAGE', 'x', false], ['APP_MODE', 'prod', false],
    ['term', 'xterm', false], ['LC_', 'C', false],
  ];
  for (const [name, value, allowed] of rows) assert.equal(allowedForUser(name, value), allowed, `${name}=${value}`);
});

test('childEnvironmentForRoot: PATH, HOME, USER and LOGNAME are angel\'s; of the inherited only the allowed pass; extra is added', () => {
  const env = childEnvironmentForRoot(
    { PATH: '/tmp', HOME: '/home/u', LANG: 'C.UTF-8', LANGUAGE: '../../x', LD_PRELOAD: '/x.so', TERM: 'xterm', SUDO_UID: '1000' },
    { TZ: 'UTC' },
    { home: '/root', name: 'root' },
  );
  assert.deepEqual(env, { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', USER: 'root', LOGNAME: 'root', LANG: 'C.UTF-8', TERM: 'xterm', TZ: 'UTC' });
});

test('parseEnvText: a dotenv file as Node reads it (export, quotes, comments), and names a shell can export', () => {
  const rows: Array<[string, Record<string, string>]> = [
    ['A=1\nB=two\n', { A: '1', B: 'two' }],
    ['export A="two words"\n# a comment\nB=\'single\'\nC=x # trailing\n', { A: 'two words', B: 'single', C: 'x' }],
    ['A=1\nA=2\n', { A: '2' }],
    ['MULTI="one\ntwo"\n', { MULTI: 'one\ntwo' }],
    ['EMPTY=\n_UNDER=1\nMixed9=x\n', { EMPTY: '', _UNDER: '1', Mixed9: 'x' }],
    ['', {}],
  ];
  for (const [text, expected] of rows) assert.deepEqual(parseEnvText(text, '--env-file', 'app.env'), expected, JSON.stringify(text));
});

test('parseEnvText: a line without = (Node joins it to the next name), a name a shell cannot export, a NUL: usage errors naming the flag and the file', () => {
  const rows: Array<[string, RegExp]> = [
    ['NOEQUALS\nB=1\n', /but one names "NOEQUALS\\nB"/],
    ['1ST=x\n', /but one names "1ST"/],
    ['A.B=x\n', /but one names "A\.B"/],
    ['A=x\0y\n', /without NUL bytes, but A has one/],
  ];
  for (const [text, message] of rows) {
    assert.throws(() => parseEnvText(text, '--env-file', 'app.env'), (error: unknown) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.match(error.message, /^--env-file: /);
      assert.match(error.message, message);
      assert.match(error.message, /got "app\.env"$/);
      return true;
    }, JSON.stringify(text));
  }
});
