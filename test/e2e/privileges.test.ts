// Privilege drop: the child runs as another user with that user's groups and cannot regain root, while
// angel keeps its own identity. These tests run as root, as CI does.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AngelRun } from '../helpers/events.js';
import { reachable } from '../helpers/reachable.js';

// run as nobody: from a copy nobody can reach, whatever the checkout's directory allows
const trySetuid = reachable('test/fixtures/bin/try-setuid');

const uidOf = (pid: number): string => /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';

test('--user nobody: the child has nobody\'s uid, gid and groups, no_new_privs, cannot setuid(0); angel stays root', async () => {
  assert.equal(process.geteuid?.(), 0, 'these tests run as root');
  const run = new AngelRun(['--user', 'nobody', '--restart', 'never', '--', 'sh', '-c', `${trySetuid}; sleep 30`]);
  const ids = await run.line(/^uid /);
  assert.equal(ids, 'uid 65534 gid 65534 groups 65534 nnp 1');
  assert.equal(await run.line(/^setuid /), 'setuid EPERM');
  assert.equal(uidOf(run.process.pid as number), '0', 'angel is still root');
  run.signal('SIGTERM');
  assert.equal(await run.status(), 143);
});

test('--group sets the gid while --user sets the rest', async () => {
  const run = new AngelRun(['--user', 'nobody', '--group', 'daemon', '--restart', 'never', '--', trySetuid]);
  assert.match(await run.line(/^uid /), /^uid 65534 gid 1 groups \S+ nnp 1$/);
  assert.equal(await run.status(), 0);
});

test('an unknown user is a usage error naming --user; a non-root angel refuses --user', async () => {
  const unknown = new AngelRun(['--user', 'no-such-user-here', '--', 'true']);
  assert.equal(await unknown.status(), 2);
  assert.match(unknown.stderrText.join('\n'), /--user.*no-such-user-here/);

  // angel itself started as nobody (setpriv drops our root for it)
  const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, reachable('dist/src/face/cli.js'), '--user', 'root', '--', 'true']);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(status, 2);
  assert.match(stderr, /^angel: --user: angel must run as root .*"root"\n$/);
});
