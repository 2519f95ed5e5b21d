// The reaper in this test process, made a child subreaper: an orphan reparented to it is reported with what
// attribution needs (its session, start time and ANGEL_GENERATION), reaped when it ends (no zombie), and a
// child_process child beside it keeps its own exit.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import type { Orphan } from '../../src/core/orphans.js';
import { processState, statFields } from '../../src/kernel/proctree.js';
import { Reaper } from '../../src/kernel/reaper.js';

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

test('an orphan is reported once with its session, start time and generation, and reaped when it ends', async () => {
  const orphans: Orphan[] = [];
  const reaper = new Reaper(() => false, (orphan) => orphans.push(orphan));
  reaper.start();
  let daemonPid = 0;
  try {
    // the shell leaves a setsid daemon and exits: the daemon is reparented to this process, the subreaper
    const shell = spawn('sh', ['-c', '(setsid sleep 1000 < /dev/null > /dev/null & echo $!); exit 0'], { env: { ...process.env, ANGEL_GENERATION: '5' } });
    shell.stdout.on('data', (chunk: Buffer) => (daemonPid = Number(chunk.toString().trim())));
    const shellExit = await new Promise<number | null>((resolve) => shell.on('exit', resolve));
    assert.equal(shellExit, 0, 'child_process still sees its own child\'s exit');
    // the shell is gone once setsid's process has forked, not once it has made its session: wait for that
    await until(() => daemonPid > 0 && statFields(daemonPid)?.[3] === String(daemonPid));
    reaper.scan();
    reaper.scan();
    const reported = orphans.filter((orphan) => orphan.pid === daemonPid);
    assert.equal(reported.length, 1, 'reported once');
    const [orphan] = reported;
    assert.equal(orphan?.session, daemonPid, 'setsid: its own session');
    assert.equal(orphan?.generation, 5);
    assert.ok((orphan?.startTick ?? 0) > 0);
    process.kill(daemonPid, 'SIGKILL');
    await until(() => processState(daemonPid) === null);
    daemonPid = 0;
  } finally {
    // a failed assertion leaves the daemon holding the shell's stderr pipe (and this file's event loop) open
    if (daemonPid > 0) process.kill(daemonPid, 'SIGKILL');
    reaper.stop();
  }
});
