// Runtime names: each angel's instance directory, alive by a lock its process holds (flock(2), dropped by the
// kernel at its death, in whatever PID namespace it runs); a sweep removes only the dead; a runtime base that
// another user took first is not used. Real directories, real locks held by real processes (flock(1)).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { statFields } from '../../src/kernel/proctree.js';
import { INITIAL_PID_NAMESPACE, Instance, runtimeBase, sweepInstances } from '../../src/kernel/runtime.js';
import { atTestEnd, scratchDir } from '../helpers/cleanup.js';
import { gone, hiddenEnvironment, isAlive } from '../helpers/proc.js';
import { reachable } from '../helpers/reachable.js';

const scratch = scratchDir('angel-runtime-test-');

/** Starts `command` in a process group of its own, its stdout read here, the whole group killed when the test
 * ends. */
function groupForTheTest(command: string, args: readonly string[]): ChildProcessByStdio<null, Readable, null> {
  const group = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  atTestEnd(() => {
    try {
      process.kill(-(group.pid as number), 'SIGKILL');
    } catch {}
  });
  return group;
}

/** Holds the lock of `dir` in another process until the test ends, as its living angel does (exclusive) or as
 * another sweep does (shared); resolves once it is held. */
async function holdLock(dir: string, as: 'angel' | 'sweep' = 'angel'): Promise<void> {
  // in a group of its own: flock and the sleep it runs end together
  const holder = groupForTheTest('flock', [...(as === 'sweep' ? ['--shared'] : []), dir, 'sh', '-c', 'echo held; exec sleep 60']);
  await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
  holder.stdout.destroy();
}

/** Records generation `generation` of the instance `dir` as an angel does: this PID namespace, its leader `pid`
 * and that process's start tick. */
function recordGeneration(dir: string, generation: number, pid: number): void {
  writeFileSync(join(dir, `gen.${generation}`), `${readlinkSync('/proc/self/ns/pid')} ${pid} ${statFields(pid)?.[19]}\n`);
}

test('a sweep removes the instances whose lock it can take, and none whose lock a living process holds', async () => {
  const base = join(scratch, 'sweep');
  mkdirSync(base);
  for (const name of ['angel.dead1', 'angel.dead2', 'angel.alive']) {
    mkdirSync(join(base, name));
    writeFileSync(join(base, name, 'control.sock'), '');
  }
  mkdirSync(join(base, 'not-an-angel'));
  writeFileSync(join(base, 'angel.file'), 'a file, not an instance');
  await holdLock(join(base, 'angel.alive'));
  assert.equal(sweepInstances(base), 2);
  assert.deepEqual(readdirSync(base).sort(), ['angel.alive', 'angel.file', 'not-an-angel']);
  assert.ok(existsSync(join(base, 'angel.alive', 'control.sock')), 'the living one keeps what it holds');
});

test('a dead angel\'s records stop what it started, and not a session whose id another process took since with the same ANGEL_GENERATION', async () => {
  const base = join(scratch, 'records');
  mkdirSync(base);
  const name = 'angel.0123456789abcdef';
  mkdirSync(join(base, name));
  /** A session leader (detached: setsid) with this environment, running until killed. */
  const leader = async (env: Record<string, string>): Promise<{ pid: number; ended: Promise<NodeJS.Signals | null> }> => {
    const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore', env: { ...process.env, ...env } });
    atTestEnd(() => {
      child.kill('SIGKILL');
    });
    await new Promise((resolve) => child.once('spawn', resolve));
    return { pid: child.pid as number, ended: new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal))) };
  };
  // generation 0's leader was that angel's; generation 1's session id is another's now (a pid reused on a busy
  // machine), a process with ANGEL_GENERATION=1 too, started by another angel
  const owned = await leader({ ANGEL_GENERATION: '0', ANGEL_INSTANCE: name });
  const reused = await leader({ ANGEL_GENERATION: '1', ANGEL_INSTANCE: 'angel.another' });
  for (const [generation, { pid }] of [owned, reused].entries()) recordGeneration(join(base, name), generation, pid);
  assert.equal(sweepInstances(base), 1);
  assert.equal(await owned.ended, 'SIGKILL', 'what the record proves the dead angel\'s is stopped');
  assert.equal(statFields(reused.pid)?.[0] !== undefined && statFields(reused.pid)?.[0] !== 'Z', true, 'the other angel\'s process lives on');
});

/** A dead angel's instance `name` in a new base, with its generation 0 recorded: a session leader with that
 * angel's ANGEL_INSTANCE and ANGEL_GENERATION=0, running until killed; `ended` gives the signal it ended by. */
async function deadInstance(baseName: string, name: string): Promise<{ base: string; instance: string; ended: Promise<NodeJS.Signals | null> }> {
  const base = join(scratch, baseName);
  const instance = join(base, name);
  mkdirSync(instance, { recursive: true });
  const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore', env: { ...process.env, ANGEL_GENERATION: '0', ANGEL_INSTANCE: name } });
  atTestEnd(() => {
    child.kill('SIGKILL');
  });
  await new Promise((resolve) => child.once('spawn', resolve));
  const ended = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  const pid = child.pid as number;
  recordGeneration(instance, 0, pid);
  return { base, instance, ended };
}

/** The PID namespace of a process started in a new one (unshare --pid --fork, its first process), living until
 * the test ends or, with `ended`, already gone with its only process. */
async function otherPidNamespace(ended: boolean): Promise<string> {
  const inside = groupForTheTest('unshare', ['--pid', '--fork', 'sh', '-c', ended ? 'readlink /proc/self/ns/pid' : 'readlink /proc/self/ns/pid; exec sleep 60']);
  const namespace = await new Promise<string>((resolve) => inside.stdout.once('data', (data: Buffer) => resolve(data.toString().trim())));
  if (ended) await new Promise((resolve) => (inside.exitCode !== null ? resolve(null) : inside.once('exit', resolve)));
  inside.stdout.destroy();
  assert.match(namespace, /^pid:\[\d+\]$/);
  assert.notEqual(namespace, readlinkSync('/proc/self/ns/pid'));
  return namespace;
}

test('a dead angel\'s records of another PID namespace that lives are left for an angel there: its directory stays with them', async () => {
  const { base, instance, ended } = await deadInstance('foreign', 'angel.fedcba9876543210');
  // a container's PID-1 angel sharing /run, its container still running
  writeFileSync(join(instance, 'gen.1'), `${await otherPidNamespace(false)} 1 1\n`);
  assert.equal(sweepInstances(base), 0, 'not removed');
  assert.equal(await ended, 'SIGKILL', 'what this namespace\'s record proves is stopped');
  assert.deepEqual(readdirSync(instance).sort(), ['gen.1'], 'the other namespace\'s record is left for an angel there');
});

test('a dead angel\'s records of another PID namespace that is gone go with its directory: nothing of that namespace runs', { skip: readlinkSync('/proc/self/ns/pid') !== INITIAL_PID_NAMESPACE && 'this test runs outside the initial PID namespace, where a namespace with no process in view may have some elsewhere' }, async () => {
  const { base, instance, ended } = await deadInstance('foreign-gone', 'angel.0123456789fedcba');
  writeFileSync(join(instance, 'gen.1'), `${await otherPidNamespace(true)} 1 1\n`);
  assert.equal(sweepInstances(base), 1, 'removed');
  assert.equal(await ended, 'SIGKILL', 'what this namespace\'s record proves is stopped');
  assert.equal(existsSync(instance), false);
});

test('a sweep that meets another at a dead angel\'s instance (one of another PID namespace, which leaves this one\'s records) still acts on it', async () => {
  const { base, instance, ended } = await deadInstance('two-sweeps', 'angel.00112233aabbccdd');
  await holdLock(instance, 'sweep');
  assert.equal(sweepInstances(base), 1, 'removed, though the other sweep was still there');
  assert.equal(await ended, 'SIGKILL', 'what the record proves the dead angel\'s is stopped');
});

test('a leftover whose environment reads as empty (mid-execve) is not judged: its record stays, and the next sweep stops it once it shows', async () => {
  const base = join(scratch, 'unread');
  const name = 'angel.0a1b2c3d4e5f6071';
  const instance = join(base, name);
  mkdirSync(instance, { recursive: true });
  // an orphan in a session of its own, whose environment reads as empty until shown: what a process in the
  // middle of an execve shows
  const hider = await hiddenEnvironment({ ...process.env, ANGEL_GENERATION: '0', ANGEL_INSTANCE: name });
  const { pid } = hider;
  atTestEnd(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  });
  recordGeneration(instance, 0, pid);
  assert.equal(sweepInstances(base), 0, 'the dead instance stays');
  assert.deepEqual(readdirSync(instance), ['gen.0'], 'its record stays for the next sweep');
  assert.equal(isAlive(pid), true, 'nothing proves it the dead angel\'s yet: not stopped');
  await hider.show();
  assert.equal(sweepInstances(base), 1, 'the next sweep removes the instance');
  assert.equal(await gone(pid), true, 'and stops what its record now proves the dead angel\'s');
});

/** runtimeBase as `uid` would find it, from the copy of the package that user can reach. */
function baseAs(uid: number, env: Record<string, string>): string {
  const module = pathToFileURL(reachable('dist/src/kernel/runtime.js')).href;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', `const { runtimeBase } = await import(${JSON.stringify(module)}); console.log(runtimeBase(${uid}, ${JSON.stringify(env)}))`], {
    encoding: 'utf8', uid, gid: uid, env: { PATH: process.env.PATH ?? '' },
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

test('a generation is recorded whole under its own name, through a partial file that the rename leaves no trace of', () => {
  const instance = Instance.acquire();
  try {
    const records = (): string[] => readdirSync(instance.path).filter((name) => name.includes('gen.')).sort();
    instance.record(7, process.pid, Number(statFields(process.pid)?.[19]));
    assert.deepEqual(records(), ['gen.7']);
    assert.match(readFileSync(join(instance.path, 'gen.7'), 'latin1'), /^\S+ \d+ \d+\n$/);
    instance.forget(7);
    assert.deepEqual(records(), []);
  } finally {
    instance.release();
  }
});

test('another user\'s runtime base: the first of XDG_RUNTIME_DIR, /tmp/angel-<uid> that is theirs alone, else a fresh one', () => {
  assert.equal(runtimeBase(0), '/run/angel', 'root\'s, always');
  const uid = 65534;
  const xdg = join(scratch, 'xdg');
  mkdirSync(xdg, { mode: 0o700 });
  chownSync(xdg, uid, uid);
  chmodSync(scratch, 0o755);
  assert.equal(baseAs(uid, { XDG_RUNTIME_DIR: xdg }), join(xdg, 'angel'));
  assert.equal(statSync(join(xdg, 'angel')).uid, uid);
  // someone else (root here: any other owner) took /tmp/angel-<uid> first: a fresh private directory instead
  const squatted = `/tmp/angel-${uid}`;
  const had = existsSync(squatted) ? statSync(squatted).uid : null;
  if (had === null) mkdirSync(squatted, { mode: 0o755 });
  try {
    const path = baseAs(uid, {});
    if (had === uid) {
      assert.equal(path, squatted, 'theirs already: used');
    } else {
      assert.match(path, new RegExp(`^/tmp/angel-${uid}\\.[A-Za-z0-9]{6}$`));
      assert.equal(statSync(path).uid, uid);
      assert.equal(statSync(path).mode & 0o777, 0o700);
      rmSync(path, { recursive: true, force: true });
    }
  } finally {
    if (had === null) rmSync(squatted, { recursive: true, force: true });
  }
});
