// The root rule with a real temporary user and group, created and removed by the test (it runs as root):
// who may ask a root angel for what, and that the file checked is the file run, in the environment angel
// chose, from directories the user cannot touch.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AngelRun } from '../helpers/events.js';
import { scratchDir } from '../helpers/cleanup.js';

const suffix = String(process.pid);
const user = `angeltest${suffix}`;
const group = `angelbin${suffix}`;
const dir = scratchDir('angel-rootrule-');
const binary = join(dir, 'program');
const echo = join(dir, 'echo');
const printenv = join(dir, 'printenv');
const script = join(dir, 'script');
let uid = -1;
let gid = -1;

/** A file of root's in the test group, as an admin would grant it. */
function grant(path: string, mode = 0o750): void {
  chownSync(path, 0, gid);
  chmodSync(path, mode);
}

before(() => {
  execFileSync('groupadd', [group]);
  execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', user]);
  uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  gid = Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);
  chmodSync(dir, 0o755);
  copyFileSync('/bin/true', binary);
  copyFileSync('/bin/echo', echo);
  copyFileSync('/usr/bin/env', printenv);
  writeFileSync(script, '#!/bin/sh\necho "script ran as $(id -u)"\n');
  for (const path of [binary, echo, printenv, script]) grant(path);
});

after(() => {
  execFileSync('userdel', [user]);
  execFileSync('groupdel', [group]);
});

const asSudoBy = (sudoUid: number | string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, ...extra, SUDO_UID: String(sudoUid) });

async function asMember<T>(body: () => Promise<T>): Promise<T> {
  execFileSync('gpasswd', ['--add', user, group], { stdio: 'ignore' });
  try {
    return await body();
  } finally {
    execFileSync('gpasswd', ['--delete', user, group], { stdio: 'ignore' });
  }
}

test('a starting user outside the binary\'s group is refused, naming the user, the group and the binary', async () => {
  const run = new AngelRun(['--restart', 'never', '--', binary], { env: asSudoBy(uid) });
  assert.equal(await run.status(), 126);
  assert.equal(run.stderrText.length, 1);
  assert.equal(run.stderrText[0], `angel: user ${user} (uid ${uid}) may not run ${binary} through angel as root: not in its group ${group} (gid ${gid})`);
});

test('a member of the binary\'s group is accepted; root itself always is', async () => {
  await asMember(async () => {
    const member = new AngelRun(['--restart', 'never', '--', binary], { env: asSudoBy(uid) });
    assert.equal(await member.status(), 0);
    assert.equal(member.count('start'), 1);
  });
  const root = new AngelRun(['--restart', 'never', '--', binary], { env: asSudoBy(0) });
  assert.equal(await root.status(), 0);
});

test('a binary the user could have made or can change is refused: not root\'s, or writable by its group', async () => {
  const own = join(dir, 'own');
  copyFileSync('/bin/true', own);
  chownSync(own, uid, gid); // the user's own copy, in a group they are in
  chmodSync(own, 0o750);
  const writable = join(dir, 'writable');
  copyFileSync('/bin/true', writable);
  grant(writable, 0o770);
  await asMember(async () => {
    const mine = new AngelRun(['--', own], { env: asSudoBy(uid) });
    assert.equal(await mine.status(), 126);
    assert.match(mine.stderrText[0] ?? '', new RegExp(`may not run ${own} .*owned by uid ${uid}, not root`));
    const shared = new AngelRun(['--', writable], { env: asSudoBy(uid) });
    assert.equal(await shared.status(), 126);
    assert.match(shared.stderrText[0] ?? '', /writable by group or others \(mode 770\)/);
  });
});

describe('SUDO_UID', () => {
  for (const value of ['abc', '1001 ', '+1001', '', '0x10', '99999999999']) {
    test(`${JSON.stringify(value)} is refused with 126, naming SUDO_UID, instead of skipping the rule`, async () => {
      const run = new AngelRun(['--restart', 'never', '--', binary], { env: asSudoBy(value) });
      assert.equal(await run.status(), 126);
      assert.equal(run.stderrText.length, 1);
      assert.match(run.stderrText[0] ?? '', /^angel: SUDO_UID: expected a decimal uid, got ".*"; refusing/);
      assert.equal(run.count('start'), 0);
    });
  }
});

describe('the file checked is the file run', () => {
  test('--env PATH is refused: the program is looked up in a PATH angel sets, not one the user names', async () => {
    const evil = scratchDir('angel-evil-');
    writeFileSync(join(evil, 'probe'), '#!/bin/sh\necho EVIL ran as $(id -u)\n', { mode: 0o755 });
    chownSync(join(evil, 'probe'), uid, uid);
    await asMember(async () => {
      const run = new AngelRun(['--env', `PATH=${evil}`, '--restart', 'never', '--', 'probe'], { env: asSudoBy(uid, { PATH: `${dir}:/usr/bin:/bin` }) });
      assert.equal(await run.status(), 2);
      assert.match(run.stderrText[0] ?? '', /^angel: --env: expected only TERM, COLORTERM, .* when angel runs as root for .*, got "PATH=.*"$/);
      assert.equal(run.stdout.items.length, 0);
    });
  });

  test('a binary swapped in after the check is not what runs: every generation executes the file opened at start', async () => {
    const program = join(dir, 'swap-me');
    copyFileSync('/bin/echo', program);
    grant(program);
    await asMember(async () => {
      const run = new AngelRun(['--restart', 'always', '--max-restarts', '3', '--max-restart-delay', '0', '--', program, 'original'], { env: asSudoBy(uid) });
      await run.line(/^original$/);
      const swapped = join(dir, 'swapped');
      writeFileSync(swapped, '#!/bin/sh\necho SWAPPED\n', { mode: 0o755 });
      renameSync(swapped, program);
      assert.equal(await run.status(), 1, 'a give-up is a failure, though each run exited 0');
      assert.equal(run.count('start'), 4);
      assert.deepEqual(run.stdout.items, ['original', 'original', 'original', 'original']);
    });
  });

  test('a #! script is run from its fd too, its interpreter reading it through /dev/fd', async () => {
    await asMember(async () => {
      const run = new AngelRun(['--restart', 'never', '--', script], { env: asSudoBy(uid) });
      assert.equal(await run.line(/^script ran/), 'script ran as 0');
      assert.equal(await run.status(), 0);
    });
  });
});

describe('the child\'s environment', () => {
  test('--env from the user is an allowlist: anything else is refused with exit 2, naming the variable', async () => {
    await asMember(async () => {
      const refused = [
        'LD_PRELOAD=/tmp/evil.so', 'NODE_OPTIONS=--require=/tmp/x', 'PYTHONWARNINGS=ignore::x.y', 'BROWSER=/tmp/x', 'LANGUAGE=../../tmp/x',
        'NODE_V8_COVERAGE=/root/x', 'PAGER=/tmp/x', 'LESSOPEN=|/tmp/x %s', 'TERMINFO=/tmp/x', 'SSL_CERT_FILE=/tmp/x', 'GIO_EXTRA_MODULES=/tmp',
        'NODE_TLS_REJECT_UNAUTHORIZED=0', 'TZ=/tmp/zone', 'TZ=../../tmp/zone', 'LANG=/tmp/locale', 'TERM=../x', 'APP_MODE=prod', 'HOME=/tmp',
      ];
      for (const assignment of refused) {
        const run = new AngelRun(['--env', assignment, '--', echo, 'ran'], { env: asSudoBy(uid) });
        assert.equal(await run.status(), 2, assignment);
        assert.equal(run.stderrText.length, 1);
        assert.match(run.stderrText[0] ?? '', /^angel: --env: expected only TERM, COLORTERM, NO_COLOR, LANG, LANGUAGE, LC_\*, TZ, COLUMNS, LINES, /);
        assert.ok((run.stderrText[0] ?? '').endsWith(`got ${JSON.stringify(assignment)}`), assignment);
        assert.equal(run.stdout.items.length, 0, `${assignment}: nothing ran`);
      }
    });
  });

  test('a root-owned config gives any variable: the admin\'s word; a flag cannot add to it beyond the allowlist', async () => {
    const config = join(dir, 'env.json');
    writeFileSync(config, JSON.stringify({ env: { APP_MODE: 'prod', NODE_OPTIONS: '--no-warnings' } }), { mode: 0o644 });
    await asMember(async () => {
      const run = new AngelRun(['--config', config, '--env', 'TZ=Europe/Berlin', '--restart', 'never', '--', printenv], { env: asSudoBy(uid) });
      assert.equal(await run.status(), 0);
      const env = Object.fromEntries(run.stdout.items.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
      assert.equal(env.APP_MODE, 'prod');
      assert.equal(env.NODE_OPTIONS, '--no-warnings');
      assert.equal(env.TZ, 'Europe/Berlin');
      const refused = new AngelRun(['--config', config, '--env', 'APP_DEBUG=1', '--', echo, 'ran'], { env: asSudoBy(uid) });
      assert.equal(await refused.status(), 2);
      assert.match(refused.stderrText[0] ?? '', /got "APP_DEBUG=1"$/);
    });
  });

  test('inherited variables are reduced to the terminal and locale; PATH, HOME, USER set by angel', async () => {
    await asMember(async () => {
      // paths that name nothing: angel's own node reads these too (ld.so warns and goes on)
      const inherited = {
        LD_PRELOAD: '/nonexistent/evil.so', LD_LIBRARY_PATH: '/nonexistent', PYTHONPATH: '/tmp', NODE_OPTIONS: '--no-warnings', HOME: '/home/evil', LANG: 'C.UTF-8',
        LC_ALL: '/tmp/locale', LANGUAGE: '../../tmp/x', TZ: '/tmp/zone', TERM: 'xterm', PATH: '/tmp:/usr/bin:/bin', PAGER: '/tmp/x',
      };
      const run = new AngelRun(['--env', 'LC_TIME=C', '--restart', 'never', '--', printenv], { env: asSudoBy(uid, inherited) });
      assert.equal(await run.status(), 0);
      const env = Object.fromEntries(run.stdout.items.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
      assert.equal(env.PATH, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
      assert.equal(env.HOME, '/root');
      assert.equal(env.USER, 'root');
      assert.equal(env.LANG, 'C.UTF-8');
      assert.equal(env.TERM, 'xterm');
      assert.equal(env.LC_TIME, 'C');
      for (const gone of ['LD_PRELOAD', 'LD_LIBRARY_PATH', 'PYTHONPATH', 'NODE_OPTIONS', 'LC_ALL', 'LANGUAGE', 'TZ', 'PAGER', 'SUDO_UID']) assert.equal(env[gone], undefined, `${gone} is not passed on`);
    });
  });
});

describe('paths the user names', () => {
  const userDir = (): string => {
    const path = scratchDir('angel-user-');
    chownSync(path, uid, uid);
    return path;
  };

  test('--cwd in a directory the user can write to is refused', async () => {
    await asMember(async () => {
      const run = new AngelRun(['--cwd', userDir(), '--', binary], { env: asSudoBy(uid) });
      assert.equal(await run.status(), 2);
      assert.match(run.stderrText[0] ?? '', /^angel: --cwd: expected a directory only root can write to \(.* is owned by uid \d+/);
    });
  });

  test('--config must be root\'s, in root\'s directories', async () => {
    const mine = join(userDir(), 'angel.json');
    writeFileSync(mine, JSON.stringify({ program: binary }));
    const rootsDir = join(dir, 'etc');
    mkdirSync(rootsDir, { mode: 0o755 });
    const theirs = join(rootsDir, 'angel.json');
    writeFileSync(theirs, JSON.stringify({ program: binary, restart: 'never' }), { mode: 0o644 });
    await asMember(async () => {
      const refused = new AngelRun(['--config', mine], { env: asSudoBy(uid) });
      assert.equal(await refused.status(), 2);
      assert.match(refused.stderrText[0] ?? '', /^angel: --config: expected a file only root can write to.* is owned by uid \d+/);
      const accepted = new AngelRun(['--config', theirs], { env: asSudoBy(uid) });
      assert.equal(await accepted.status(), 0);
    });
  });
});
