// The reaper in this test process, made a child subreaper: an orphan reparented to it is reported with what
// attribution needs (its session, start time and ANGEL_GENERATION), reaped when it ends (no zombie), and a
// child_process child beside it keeps its own exit. The addon's batch reap (reapEnded) takes exactly the ended
// children it may, never one it was told to leave (a pidfd's, libuv's), and leaves a live one running.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Orphan } from '../../src/core/orphans.js';
import { processState, statFields } from '../../src/kernel/proctree.js';
import { Reaper } from '../../src/kernel/reaper.js';
import { reapEnded, setChildSubreaper, spawnNative, watchExit } from '../../src/kernel/syscalls.js';
import type { NativeSpawnSpec } from '../../src/kernel/syscalls.js';
import { hiddenEnvironment } from '../helpers/proc.js';
import { childPids } from '../helpers/spawn-output.js';

const spec = (path: string, ...args: string[]): NativeSpawnSpec => ({
  path, argv: [path, ...args], envBase: null, env: [], listenPidIndex: -1, watchdogPidIndex: -1, cwd: null, fds: [0, 1, 2], rlimits: [], uid: -1, gid: -1,
  groups: null, noNewPrivs: false, execFd: -1, execFdInherit: false, parentDeathSignal: 0, cgroupFd: -1, cgroupProcsFd: -1,
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A reaper started in this process, and the orphans it has reported. */
function startReaper(): { reaper: Reaper; orphans: Orphan[] } {
  const orphans: Orphan[] = [];
  const reaper = new Reaper(() => [], (orphan) => orphans.push(orphan));
  reaper.start();
  return { reaper, orphans };
}

test('an orphan is reported once with its session, start time and generation, and reaped when it ends', async () => {
  const { reaper, orphans } = startReaper();
  let daemonPid = 0;
  try {
    // the shell leaves a setsid daemon and exits: the daemon is reparented to this process, the subreaper
    const shell = spawn('sh', ['-c', '(setsid sleep 1000 < /dev/null > /dev/null & echo $!); exit 0'], { env: { ...process.env, ANGEL_GENERATION: '5' } });
    shell.stdout.on('data', (chunk: Buffer) => (daemonPid = Number(chunk.toString().trim())));
    const shellExit = await new Promise<number | null>((resolve) => shell.on('exit', resolve));
    assert.equal(shellExit, 0, 'child_process still sees its own child\'s exit');
    // the shell is gone once setsid's process has forked, not once it has made its session: wait for that
    await until(() => daemonPid > 0 && statFields(daemonPid)?.[3] === String(daemonPid));
    // found then, it may still be in execve: reported once its environment is there (the next test)
    reaper.scan();
    await until(() => orphans.some((orphan) => orphan.pid === daemonPid));
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

/** Kills an orphan (when one was found) and stops the reaper once it has reaped it: no zombie of this test is
 * left for the next one's reapEnded. */
async function killAndReap(pid: number, reaper: Reaper): Promise<void> {
  if (pid > 0) {
    process.kill(pid, 'SIGKILL');
    await until(() => processState(pid) === null);
  }
  reaper.stop();
}

test('an orphan whose environment reads as empty, as in execve, is reported with its generation once it is there', async () => {
  const { reaper, orphans } = startReaper();
  let hiderPid = 0;
  try {
    const hider = await hiddenEnvironment({ ...process.env, ANGEL_GENERATION: '7' });
    hiderPid = hider.pid;
    reaper.scan();
    reaper.scan();
    assert.equal(orphans.length, 0, 'not reported while its environment reads as empty');
    await hider.show();
    // the looks that follow (scanSoon) find it
    await until(() => orphans.length > 0);
    assert.deepEqual(orphans.map((orphan) => [orphan.pid, orphan.generation]), [[hiderPid, 7]]);
  } finally {
    await killAndReap(hiderPid, reaper);
  }
});

test('an orphan started with no environment at all is reported, with no generation, after a few looks', async () => {
  const { reaper, orphans } = startReaper();
  let daemonPid = 0;
  try {
    const shell = spawn('/bin/sh', ['-c', '(exec setsid /usr/bin/env -i /bin/sleep 1000 < /dev/null > /dev/null & echo $!)']);
    shell.stdout.on('data', (chunk: Buffer) => (daemonPid = Number(chunk.toString().trim())));
    await new Promise((resolve) => shell.on('exit', resolve));
    // env -i has exec'd sleep once the command line is sleep's
    await until(() => daemonPid > 0 && readFileSync(`/proc/${daemonPid}/cmdline`, 'latin1').startsWith('/bin/sleep'));
    reaper.scan();
    assert.equal(orphans.length, 0, 'not reported at the first look');
    await until(() => orphans.length > 0);
    assert.deepEqual(orphans.map((orphan) => [orphan.pid, orphan.generation]), [[daemonPid, null]]);
  } finally {
    await killAndReap(daemonPid, reaper);
  }
});

/** Running or able to run: neither ended (a zombie) nor gone. Just spawned, it may be R as well as S. */
const alive = (pid: number): boolean => {
  const state = processState(pid);
  return state !== null && state !== 'Z';
};

test('reapEnded reaps the ended children before one it must leave, and never that one nor a live one', async () => {
  // in this order in the kernel's list of children: two that end, the one whose pidfd is watched, one that ends
  // behind it, one that lives
  const [first] = spawnNative(spec('/bin/true'));
  const [second] = spawnNative(spec('/bin/true'));
  const [kept, keptPidfd] = spawnNative(spec('/bin/true'));
  const [behind] = spawnNative(spec('/bin/true'));
  const [live] = spawnNative(spec('/bin/sleep', '30'));
  try {
    await until(() => [first, second, kept, behind].every((pid) => processState(pid) === 'Z'));
    const [stoppedAt, ...reaped] = reapEnded(Int32Array.of(kept));
    assert.equal(stoppedAt, kept, 'the loop stops at the child it must leave');
    assert.deepEqual(reaped, [first, second]);
    for (const pid of [first, second]) assert.equal(processState(pid), null, `${pid} reaped`);
    assert.equal(processState(kept), 'Z', 'the kept one is left to its pidfd');
    assert.ok(alive(live), 'a live child is not waited for');
    // its owner takes its status, as it would have: exit code 0 through the pidfd
    const code = await new Promise<number | null>((resolve) => watchExit(keptPidfd, (exitCode) => resolve(exitCode)));
    assert.equal(code, 0);
    // with nothing in the way, the rest is reaped, and the live one still runs
    assert.deepEqual(reapEnded(new Int32Array(0)), [0, behind]);
    assert.ok(alive(live));
    process.kill(live, 'SIGKILL');
    await until(() => processState(live) === 'Z');
    assert.deepEqual(reapEnded(new Int32Array(0)), [0, live]);
  } finally {
    // whatever an assertion left: no zombie and no sleep of this test outlives it (an assertion here would hide
    // the one that failed)
    try {
      process.kill(live, 'SIGKILL');
    } catch {}
    await until(() => processState(live) !== 'S' && processState(live) !== 'R');
    reapEnded(new Int32Array(0));
  }
});

test('a storm of orphans is reaped in batches: no zombie is left, and child_process keeps its own child', async () => {
  const reaper = new Reaper(() => [], () => {});
  reaper.start();
  try {
    // each (true &) is an orphan of this subreaper as soon as its subshell exits; sh itself is child_process's
    const shell = spawn('sh', ['-c', 'for i in $(seq 200); do (true &); done; exit 3']);
    const shellExit = await new Promise<number | null>((resolve) => shell.on('exit', resolve));
    assert.equal(shellExit, 3, "child_process still sees its own child's exit");
    // an orphan may still be running (not yet a zombie) once its subshell has exited: wait for none at all
    await until(() => childPids().length === 0);
    assert.deepEqual(childPids(), [], 'every orphan reaped');
  } finally {
    reaper.stop();
    setChildSubreaper(false);
  }
});
