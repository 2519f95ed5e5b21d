// The root rule with a real temporary user and group, created and removed by the test (it runs as root).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AngelRun } from './helpers/events.js';

const suffix = String(process.pid);
const user = `angeltest${suffix}`;
const group = `angelbin${suffix}`;
const dir = mkdtempSync(join(tmpdir(), 'angel-rootrule-'));
const binary = join(dir, 'program');
let uid = -1;
let gid = -1;

before(() => {
  execFileSync('groupadd', [group]);
  execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', user]);
  uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  gid = Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);
  copyFileSync('/bin/true', binary);
  chownSync(binary, 0, gid);
  chmodSync(binary, 0o750);
});

after(() => {
  execFileSync('userdel', [user]);
  execFileSync('groupdel', [group]);
});

const asSudoBy = (sudoUid: number): NodeJS.ProcessEnv => ({ ...process.env, SUDO_UID: String(sudoUid) });

test('a starting user outside the binary\'s group is refused, naming the user, the group and the binary', async () => {
  const run = new AngelRun(['--restart', 'never', '--', binary], { env: asSudoBy(uid) });
  assert.equal(await run.status(), 126);
  assert.equal(run.stderrText.length, 1);
  assert.equal(run.stderrText[0], `angel: user ${user} (uid ${uid}) may not run ${binary} through angel as root: not in its group ${group} (gid ${gid})`);
});

test('a member of the binary\'s group is accepted; root itself always is', async () => {
  execFileSync('gpasswd', ['--add', user, group], { stdio: 'ignore' });
  try {
    const member = new AngelRun(['--restart', 'never', '--', binary], { env: asSudoBy(uid) });
    assert.equal(await member.status(), 0);
    assert.equal(member.count('start'), 1);
  } finally {
    execFileSync('gpasswd', ['--delete', user, group], { stdio: 'ignore' });
  }
  const root = new AngelRun(['--restart', 'never', '--', binary], { env: { ...process.env, SUDO_UID: '0' } });
  assert.equal(await root.status(), 0);
});
