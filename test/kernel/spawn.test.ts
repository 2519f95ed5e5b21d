// The native spawn, with real processes and the real addon: limits, fds, dispositions, ids, errors, exits.
// Every wait is on a child's exit or its output (or a bounded poll of /proc); nothing sleeps a fixed time.
import assert from 'node:assert/strict';
import { spawn as nodeSpawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync, closeSync, constants as fsConstants, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync,
  readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { SpawnError } from '../../src/core/errors.js';
import { eventfd, pipe, prepareProgram, prepareStrings, spawnNative, spawnProgram, unwatchFd, watchExit, watchFd } from '../../src/kernel/syscalls.js';
import { Environ, PreparedSpawn, spawnChild, type ChildExit, type SpawnOptions } from '../../src/kernel/spawn.js';
import { addon } from '../../src/kernel/native.js';
import { now } from '../../src/kernel/clock.js';
import type { NativeSpawnSpec } from '../../src/kernel/syscalls.js';
import { fixture } from '../helpers/events.js';
import { isAlive } from '../helpers/proc.js';
import {
  childPids, limitsText, openFdCount, runCaptured, runNodeScript, scratch, scratchPath, SPAWN_MODULE, statFields, until, zombieChildren,
} from '../helpers/spawn-output.js';

const KiB = 2 ** 10;
const MiB = 2 ** 20;
/** The addon's spawn spec with every field at its "none": /bin/true, angel's fds 0-2. */
const BARE_SPEC: NativeSpawnSpec = {
  path: '/bin/true', argv: ['true'], envBase: null, env: [], listenPidIndex: -1, watchdogPidIndex: -1, cwd: null, fds: [0, 1, 2], rlimits: [], uid: -1, gid: -1,
  groups: null, noNewPrivs: false, execFd: -1, execFdInherit: false, parentDeathSignal: 0, cgroupFd: -1, cgroupProcsFd: -1,
};
const SIGPIPE_BIT = 1n << 12n; // bit n-1 for signal n in /proc/<pid>/status masks (proc(5))

/** What the child's fds point at, from `fd-list --targets`: fd -> path, pipe:[inode], socket:[inode]. */
function fdTargets(output: string): Map<number, string> {
  return new Map(output.trim().split('\n').map((line) => {
    const space = line.indexOf(' ');
    return [Number(line.slice(0, space)), line.slice(space + 1)] as const;
  }));
}

function statusMask(status: string, field: 'SigIgn' | 'SigBlk'): bigint {
  const hex = new RegExp(`^${field}:\\s+([0-9a-f]+)$`, 'm').exec(status)?.[1];
  assert.ok(hex, `${field} in status`);
  return BigInt(`0x${hex}`);
}

describe('limits before exec', () => {
  test('the child sees exactly the NOFILE, AS, NPROC and CORE limits asked for; ours are unchanged', async () => {
    const before = limitsText('self');
    const { exit, output } = await runCaptured({
      program: 'cat',
      args: ['/proc/self/limits'],
      rlimits: {
        nofile: { soft: 77, hard: 99 },
        as: { soft: 512 * MiB, hard: 768 * MiB },
        nproc: { soft: 321, hard: 654 },
        core: { soft: 0, hard: -1 },
      },
    });
    assert.equal(exit.code, 0);
    assert.match(output, /^Max open files\s+77\s+99\s+files\s*$/m);
    assert.match(output, new RegExp(`^Max address space\\s+${512 * MiB}\\s+${768 * MiB}\\s+bytes\\s*$`, 'm'));
    assert.match(output, /^Max processes\s+321\s+654\s+processes\s*$/m);
    assert.match(output, /^Max core file size\s+0\s+unlimited\s+bytes\s*$/m);
    assert.equal(limitsText('self'), before);
    // and a limit not asked for is inherited as it is here
    const stack = /^Max stack size.*$/m.exec(before)?.[0];
    assert.ok(stack && output.includes(stack), `stack limit inherited: ${stack}`);
  });

  test('a child that opens files until it fails gets EMFILE at the NOFILE limit', async () => {
    for (const limit of [10, 40, 100]) {
      const { exit, output } = await runCaptured({ program: fixture('fd-hog'), rlimits: { nofile: { soft: limit, hard: limit } } });
      assert.equal(exit.code, 0);
      // fds 0-2 are taken, so fds 3 .. limit-1 open and the next one fails
      assert.equal(output.trim(), `opened ${limit - 3} EMFILE`);
    }
  });

  test('a child that touches memory past AS gets ENOMEM, and this process is untouched', async () => {
    const before = limitsText('self');
    const { exit, output } = await runCaptured({ program: fixture('vmem-hog'), rlimits: { as: { soft: 128 * MiB, hard: 128 * MiB } } });
    assert.equal(exit.code, 0);
    const [, mapped, errno] = /^mapped (\d+) (\S+)$/.exec(output.trim()) ?? [];
    assert.equal(errno, 'ENOMEM');
    // the program's own mappings (libc, stack) take a few MiB of the 128
    assert.ok(Number(mapped) < 128 && Number(mapped) >= 96, `mapped ${mapped} MiB under a 128 MiB AS limit`);
    assert.equal(limitsText('self'), before);
    // this process maps more than the child was allowed, and is far above that already (V8 reserves GiBs)
    const big = Buffer.allocUnsafeSlow(192 * MiB);
    big[big.length - 1] = 1;
    assert.equal(big[big.length - 1], 1);
    const vmSizeKiB = Number(/^VmSize:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
    assert.ok(vmSizeKiB * KiB > 2 * 128 * MiB, `VmSize ${vmSizeKiB} kB`);
  });
});

describe('errors', () => {
  // spawnChild fails synchronously, and nothing reaps a child while this code runs (libuv and the exit
  // watches reap from the event loop), so a failed child that were not reaped would still be in this list.
  const expectSpawnError = (run: () => unknown, code: string, step: string, program: string): void => {
    const childrenBefore = childPids();
    assert.throws(run, (error: unknown) => {
      assert.ok(error instanceof SpawnError && error instanceof Error, String(error));
      assert.equal(error.code, code);
      assert.equal(error.step, step);
      assert.equal(error.program, program);
      assert.ok(error.message.startsWith(`spawn ${program}: ${step}: ${code}`), error.message);
      return true;
    });
    assert.deepEqual(childPids(), childrenBefore, 'the failed child was reaped: no child of ours, live or zombie, is new');
  };

  test('ENOENT for a missing program, at execve', () => {
    const program = join(scratch, 'missing');
    expectSpawnError(() => spawnChild({ program }), 'ENOENT', 'execve', program);
    // a bare name is looked up in PATH before the fork, and named the same way
    expectSpawnError(() => spawnChild({ program: 'no-such-program-anywhere' }), 'ENOENT', 'execve', 'no-such-program-anywhere');
  });

  test('EACCES for a file that is not executable, at execve', () => {
    const program = join(scratch, 'not-executable');
    writeFileSync(program, '#!/bin/sh\n');
    chmodSync(program, 0o644);
    expectSpawnError(() => spawnChild({ program }), 'EACCES', 'execve', program);
  });

  test('EPERM from setrlimit(NOFILE) when the hard limit is above fs.nr_open', () => {
    const nrOpen = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8'));
    expectSpawnError(
      () => spawnChild({ program: '/bin/true', rlimits: { nofile: { soft: 64, hard: nrOpen + 1 } } }),
      'EPERM', 'setrlimit(NOFILE)', '/bin/true',
    );
  });

  test('EINVAL from setrlimit for a soft limit above the hard one (which the parser refuses earlier)', () => {
    expectSpawnError(
      () => spawnChild({ program: '/bin/true', rlimits: { nofile: { soft: 100, hard: 50 } } }),
      'EINVAL', 'setrlimit(NOFILE)', '/bin/true',
    );
  });

  test('ENOENT from chdir for a missing working directory', () => {
    expectSpawnError(() => spawnChild({ program: '/bin/true', cwd: join(scratch, 'no-such-dir') }), 'ENOENT', 'chdir', '/bin/true');
  });

  test('EBADF from dup for a closed fd in the map, never one of the addon\'s own fds in its place', () => {
    // The addon may open an fd of its own for a spawn (its /proc/self/status, on the first one), at the lowest
    // free number. A closed number in the map that it took would reach the child as that file instead of
    // failing. The lowest closed numbers here:
    const closed: number[] = [];
    for (let fd = 3; closed.length < 4; fd++) if (!existsSync(`/proc/self/fd/${fd}`)) closed.push(fd);
    for (const fd of closed) {
      expectSpawnError(() => spawnChild({ program: '/bin/true', fds: [0, 1, 2, fd] }), 'EBADF', 'dup', '/bin/true');
      expectSpawnError(() => spawnChild({ program: '/bin/true', fds: [fd, 1, 2] }), 'EBADF', 'dup', '/bin/true');
    }
  });

  test('EPERM from setuid in a process that may not change its uid, and no zombie there either', async () => {
    assert.equal(process.getuid?.(), 0, 'these tests run as root, so the unprivileged case runs as nobody');
    const result = await runNodeScript(`
      const before = childPids();
      let failure = null;
      try { spawnChild({ program: '/bin/true', uid: 0 }); } catch (error) {
        failure = { name: error.name, isError: error instanceof Error, code: error.code, step: error.step, message: error.message };
      }
      const after = childPids();
      console.log(JSON.stringify({ uid: process.getuid(), failure, newChildren: after.filter((pid) => !before.includes(pid)), zombies: zombieChildren() }));
    `, { uid: 65534, gid: 65534, groups: [] });
    assert.deepEqual(result, {
      uid: 65534,
      failure: { name: 'SpawnError', isError: true, code: 'EPERM', step: 'setuid', message: 'spawn /bin/true: setuid: EPERM' },
      newChildren: [],
      zombies: [],
    });
  });
});

interface CoreExpectation {
  /** coreDumped with RLIMIT_CORE unlimited, and with 0 */
  unlimited: boolean;
  zero: boolean;
  /** where the kernel writes the core, when the pattern says so plainly */
  file: (cwd: string, pid: number) => string | undefined;
  why: string;
}

/** What core(5) says the kernel does with a crashing crasher, given this machine's core_pattern. */
function coreExpectation(): CoreExpectation {
  const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8').replace(/\n$/, '');
  if (pattern.startsWith('|')) {
    const helper = pattern.slice(1).trim().split(/\s+/)[0] ?? '';
    // for a pipe, the kernel ignores RLIMIT_CORE (fs/coredump.c only treats 1 as "the helper itself crashed")
    const runs = existsSync(helper);
    return {
      unlimited: runs,
      zero: runs,
      file: () => undefined,
      why: runs
        ? `core_pattern pipes to ${helper}: the kernel streams the core to it whatever RLIMIT_CORE says`
        : `core_pattern pipes to ${helper}, which does not exist: the kernel cannot start it and dumps nothing`,
    };
  }
  const usesPid = readFileSync('/proc/sys/kernel/core_uses_pid', 'utf8').trim() === '1';
  const file = (cwd: string, pid: number): string | undefined => {
    let name = pattern.replace(/%([%pe])/g, (_, spec: string) => (spec === '%' ? '\0' : spec === 'p' ? String(pid) : 'crasher'));
    if (name.includes('%')) return undefined; // other specifiers: the name is not worth predicting here
    name = name.replaceAll('\0', '%');
    if (usesPid && !pattern.includes('%p')) name += `.${pid}`;
    return resolve(cwd, name); // a relative pattern is relative to the crashing process's cwd
  };
  const directory = file('/', 0);
  const writable = directory === undefined || !pattern.startsWith('/') || existsSync(dirname(directory));
  return {
    unlimited: writable,
    zero: false, // a file needs RLIMIT_CORE of at least a page
    file,
    why: `core_pattern ${JSON.stringify(pattern)} (core_uses_pid ${usesPid ? 1 : 0}): a file${writable ? '' : ' in a missing directory'}`,
  };
}

describe('exits', () => {
  test('exit code, terminating signal and SIGKILL are reported exactly', async (t) => {
    for (const code of [0, 3, 255]) {
      assert.deepEqual(await spawnChild({ program: fixture('crasher'), args: ['exit', String(code)] }).exited, { code, signal: null, coreDumped: false });
    }
    assert.deepEqual(
      await spawnChild({ program: fixture('crasher'), args: ['segv'], rlimits: { core: { soft: 0, hard: 0 } } }).exited,
      { code: null, signal: 'SIGSEGV', coreDumped: false },
    );
    const child = spawnChild({ program: 'sleep', args: ['30'] });
    t.after(() => child.signal('SIGKILL'));
    assert.equal(child.exit, undefined);
    assert.equal(child.signal('SIGKILL'), true);
    const exit = await child.exited;
    assert.deepEqual(exit, { code: null, signal: 'SIGKILL', coreDumped: false });
    assert.equal(child.exit, exit);
    assert.equal(child.signal('SIGTERM'), false, 'no signal reaches an exited child');
  });

  test('execAt is the child\'s own reading just before its execve: after the call began, never after the program\'s first instruction', async () => {
    // a vfork parent released at the exec waits for a CPU like any woken task: its own reading after the spawn
    // returned could fall after the program had started; the child's cannot
    for (let i = 0; i < 20; i++) {
      const file = scratchPath('clock');
      const fd = openSync(file, 'w');
      const before = now();
      const child = spawnChild({ program: fixture('crasher'), args: ['clock'], fds: [0, fd, 2] });
      closeSync(fd);
      assert.deepEqual(await child.exited, { code: 0, signal: null, coreDumped: false });
      const mainAt = Number(readFileSync(file, 'utf8').trim()) / 1e6;
      assert.ok(before <= child.execAt && child.execAt <= mainAt, `call ${before}, execAt ${child.execAt}, main ${mainAt}`);
    }
  });

  test('an exit that came before the first read of exited (where the watch is armed) is reported, and the child reaped', async () => {
    const [readEnd, writeEnd] = pipe();
    const child = spawnChild({ program: fixture('crasher'), args: ['exit', '7'], fds: [0, writeEnd, 2] });
    closeSync(writeEnd);
    // the pipe's end of file: the child is ending (its only writer is gone); it is a zombie a little later, once
    // its exit is done, and stays one: nothing watches it yet
    assert.equal(readSync(readEnd, Buffer.alloc(16)), 0);
    closeSync(readEnd);
    await until(() => statFields(child.pid)[0] === 'Z', 'the ended child to be a zombie, not reaped');
    assert.equal(child.exit, undefined);
    assert.deepEqual(await child.exited, { code: 7, signal: null, coreDumped: false });
    assert.equal(existsSync(`/proc/${child.pid}`), false, 'reaped by the watch');
  });

  test('coreDumped is what the kernel did: a core with RLIMIT_CORE unlimited, none with 0', async (t) => {
    const expected = coreExpectation();
    t.diagnostic(expected.why);
    for (const [mode, signal] of [['segv', 'SIGSEGV'], ['abort', 'SIGABRT']] as const) {
      for (const [limit, coreDumped] of [[-1, expected.unlimited], [0, expected.zero]] as const) {
        const cwd = mkdtempSync(join(scratch, `core-${mode}-`));
        const child = spawnChild({ program: fixture('crasher'), args: [mode], cwd, rlimits: { core: { soft: limit, hard: limit } } });
        const exit: ChildExit = await child.exited;
        assert.deepEqual(exit, { code: null, signal, coreDumped }, `${mode} with core ${limit}`);
        const file = expected.file(cwd, child.pid);
        if (file !== undefined) {
          assert.equal(existsSync(file), coreDumped, `${file} ${coreDumped ? 'written' : 'not written'}`);
          rmSync(file, { force: true });
        }
        rmSync(cwd, { recursive: true, force: true });
      }
    }
  });
});

describe('the child\'s starting state', () => {
  test('its fds are exactly 0, 1, 2 and those mapped; none of ours leaks', async () => {
    const extra = [openSync('/dev/null', 'r'), openSync('/dev/null', 'r'), openSync(scratchPath('extra'), 'w')];
    const mappedPath = scratchPath('mapped');
    const mapped = openSync(mappedPath, 'w');
    try {
      assert.ok(Math.min(...extra, mapped) > 2);
      const plain = await runCaptured({ program: fixture('fd-list') });
      assert.deepEqual(plain.output.trim().split('\n').map(Number), [0, 1, 2]);
      const withMapped = await runCaptured({ program: fixture('fd-list'), fds: [0, 1, 2, mapped] });
      assert.deepEqual(withMapped.output.trim().split('\n').map(Number), [0, 1, 2, 3]);
      // and fd 3 is that file: what the child writes there lands in it
      const shell = await runCaptured({ program: 'sh', args: ['-c', 'echo to-1; echo to-3 >&3'], fds: [0, 1, 2, mapped] });
      assert.equal(shell.output, 'to-1\n');
      assert.equal(readFileSync(mappedPath, 'utf8'), 'to-3\n');
    } finally {
      for (const fd of [...extra, mapped]) closeSync(fd);
    }
  });

  test('fds without FD_CLOEXEC do not leak either: the child closes them, not Node\'s O_CLOEXEC', async () => {
    // Node opens every fd O_CLOEXEC, and at start-up marks fds 0-15 and the run of open fds after them
    // (libuv's uv_disable_stdio_inheritance), so the test above cannot tell whether the child closes anything
    // itself. A Node process given fd 100 (above a gap) holds it without FD_CLOEXEC: its own spawns must not
    // pass it on, whether the map leaves it out or has a hole (-1) where it sits.
    const held = openSync('/dev/null', 'r');
    try {
      const files = [scratchPath('plain'), scratchPath('hole'), scratchPath('mapped')];
      const result = await runNodeScript(`
        const list = async (file, map) => {
          const out = openSync(file, 'w');
          const exit = await spawnChild({ program: ${JSON.stringify(fixture('fd-list'))}, fds: map(out) }).exited;
          closeSync(out);
          return { exit: exit.code, fds: readFileSync(file, 'utf8').trim().split('\\n').map(Number) };
        };
        const [plain, hole, mapped] = ${JSON.stringify(files)};
        console.log(JSON.stringify({
          held: closeOnExec(100),
          plain: await list(plain, (out) => [0, out, 2]),
          hole: await list(hole, (out) => [0, out, 2, ...Array(98).fill(-1)]),
          mapped: await list(mapped, (out) => [0, out, 2, 100]),
        }));
      `, { fds: [0, 1, 2, ...Array<number>(97).fill(-1), held] });
      assert.deepEqual(result, {
        held: false,
        plain: { exit: 0, fds: [0, 1, 2] },
        hole: { exit: 0, fds: [0, 1, 2] },
        mapped: { exit: 0, fds: [0, 1, 2, 3] }, // and it is a live fd that can be passed on deliberately
      });
    } finally {
      closeSync(held);
    }
  });

  test('a pipe mapped at 3 is that very pipe; Node\'s pipes and the unmapped end stay out of the child', async (t) => {
    const [readEnd, writeEnd] = pipe();
    t.after(() => closeSync(readEnd));
    // a child_process with piped stdio holds libuv's pipes open in this process while the addon spawns
    const cat = nodeSpawn('cat', [], { stdio: ['pipe', 'pipe', 'pipe'] });
    await once(cat, 'spawn');
    const ours = readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } });
    const ownPipes = ours.filter((target) => /^(pipe|socket):/.test(target));
    assert.ok(ownPipes.length >= 5, `pipes and sockets open here: ${ownPipes.join(' ')}`);

    const { exit, output } = await runCaptured({ program: fixture('fd-list'), args: ['--targets'], fds: [0, 1, 2, writeEnd] });
    closeSync(writeEnd);
    assert.equal(exit.code, 0);
    const targets = fdTargets(output);
    assert.deepEqual([...targets.keys()], [0, 1, 2, 3]);
    assert.equal(targets.get(0), readlinkSync('/proc/self/fd/0'));
    assert.equal(targets.get(2), readlinkSync('/proc/self/fd/2'));
    assert.equal(targets.get(3), `pipe:[${fstatSync(readEnd).ino}]`, 'fd 3 is the pipe made here');
    // no writer is left anywhere (not in the exited child, not in cat): a non-blocking read of the pipe is at
    // EOF, where a stray write end would make it EAGAIN
    const reader = openSync(`/proc/self/fd/${readEnd}`, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    try {
      assert.equal(readSync(reader, Buffer.alloc(16)), 0);
    } finally {
      closeSync(reader);
    }
    cat.stdin.end();
    const [code] = await once(cat, 'exit');
    assert.equal(code, 0);
  });

  test('a map that moves fds inside its own range lands each file where asked', async () => {
    // Every source below sits inside the range the map writes over: a and b trade places, a also becomes 0,
    // c becomes 1 and stays at c (mapped onto itself, so FD_CLOEXEC must be cleared), d becomes 2 while
    // its own number is a hole. A map that dup'd in order would clobber a source before using it.
    const paths = ['A', 'B', 'C', 'D'].map((name) => scratchPath(`map-${name}`));
    const [a, b, c, d] = paths.map((path) => openSync(path, 'w')) as [number, number, number, number];
    try {
      const fds = Array<number>(Math.max(a, b, c, d) + 1).fill(-1);
      Object.assign(fds, { 0: a, 1: c, 2: d, [a]: b, [b]: a, [c]: c });
      assert.equal(fds[d], -1);
      const child = spawnChild({ program: fixture('fd-list'), args: ['--targets'], fds });
      assert.equal((await child.exited).code, 0);
      const fileOf = (fd: number): string => realpathSync(paths[[a, b, c, d].indexOf(fd)] ?? '');
      const expected = new Map(fds.flatMap((source, target) => (source < 0 ? [] : [[target, fileOf(source)] as const])));
      assert.deepEqual(fdTargets(readFileSync(paths[2] ?? '', 'utf8')), expected);
      assert.equal(readFileSync(paths[3] ?? '', 'utf8'), '', 'nothing written to fd 2');
    } finally {
      for (const fd of [a, b, c, d]) closeSync(fd);
    }
  });

  test('stdio is blocking in the child even when ours is O_NONBLOCK; fds above 2 keep their flags', async () => {
    // O_NONBLOCK belongs to the open file description, so each fd gets its own open() to be checked apart
    const { O_RDONLY, O_WRONLY, O_CREAT, O_NONBLOCK } = fsConstants;
    const outPath = scratchPath('nonblock');
    const fds = [
      openSync('/dev/null', O_RDONLY | O_NONBLOCK),
      openSync(outPath, O_WRONLY | O_CREAT | O_NONBLOCK),
      openSync('/dev/null', O_WRONLY | O_NONBLOCK),
      openSync('/dev/null', O_RDONLY | O_NONBLOCK),
    ];
    try {
      const child = spawnChild({ program: 'sh', args: ['-c', 'for fd in 0 1 2 3; do grep ^flags: /proc/self/fdinfo/$fd; done'], fds });
      assert.equal((await child.exited).code, 0);
      const nonBlocking = readFileSync(outPath, 'utf8').trim().split('\n')
        .map((line) => (parseInt(line.split(/\s+/)[1] ?? '', 8) & O_NONBLOCK) !== 0);
      assert.deepEqual(nonBlocking, [false, false, false, true]);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });

  test('no signal is ignored or blocked in the child, though this process ignores SIGPIPE', async (t) => {
    assert.equal(statusMask(readFileSync('/proc/self/status', 'utf8'), 'SigIgn') & SIGPIPE_BIT, SIGPIPE_BIT, 'Node ignores SIGPIPE');
    const child = spawnChild({ program: 'sleep', args: ['30'] });
    t.after(() => child.signal('SIGKILL'));
    // spawnChild returns once exec succeeded, so this is the state the program starts in
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    assert.equal(statusMask(status, 'SigIgn'), 0n, 'SigIgn');
    assert.equal(statusMask(status, 'SigBlk'), 0n, 'SigBlk');
    // the reset dispositions are real: SIGPIPE now kills it
    assert.equal(child.signal('SIGPIPE'), true);
    assert.deepEqual(await child.exited, { code: null, signal: 'SIGPIPE', coreDumped: false });
  });

  test('under a seccomp filter that answers clone3 with ENOSYS (older container runtimes), the spawn falls back to clone, and still nothing is ignored or blocked', async () => {
    // no-clone3 runs a Node process under the filter; its spawn's clone3 is refused, so clone is what starts the child
    const source = `import { spawnChild } from ${JSON.stringify(SPAWN_MODULE)};
import { readFileSync } from 'node:fs';
const child = spawnChild({ program: 'sleep', args: ['30'] });
const status = readFileSync('/proc/' + child.pid + '/status', 'utf8');
child.signal('SIGKILL');
await child.exited;
console.log(JSON.stringify({ status }));`;
    const { exit, output } = await runCaptured({ program: fixture('no-clone3'), args: [process.execPath, '--input-type=module', '-e', source] });
    assert.equal(exit.code, 0, output);
    const { status } = JSON.parse(output) as { status: string };
    assert.equal(statusMask(status, 'SigIgn'), 0n, 'SigIgn after the fallback');
    assert.equal(statusMask(status, 'SigBlk'), 0n, 'SigBlk after the fallback');
  });

  test('it leads its own session and process group, and signalGroup reaches a grandchild', async (t) => {
    const out = scratchPath('forker');
    const fd = openSync(out, 'w');
    const child = spawnChild({ program: fixture('forker'), fds: [0, fd, 2] });
    closeSync(fd);
    t.after(() => child.signalGroup('SIGKILL'));
    const [state, , pgrp, session] = statFields(child.pid);
    assert.notEqual(state, 'Z');
    assert.equal(Number(pgrp), child.pid);
    assert.equal(Number(session), child.pid);
    await until(() => /^grandchild \d+$/m.test(readFileSync(out, 'utf8')), 'the grandchild pid');
    const grandchild = Number(/^grandchild (\d+)$/m.exec(readFileSync(out, 'utf8'))?.[1]);
    assert.ok(isAlive(grandchild), 'the grandchild runs');
    const [, , grandPgrp, grandSession] = statFields(grandchild);
    assert.deepEqual([Number(grandPgrp), Number(grandSession)], [child.pid, child.pid], 'the grandchild is in the group');
    assert.equal(child.signalGroup('SIGTERM'), true);
    assert.deepEqual(await child.exited, { code: null, signal: 'SIGTERM', coreDumped: false });
    await until(() => !isAlive(grandchild), 'the grandchild to end');
  });

  test('LISTEN_PID is the child\'s own pid, whatever the environment said', async () => {
    const { exit, output, pid } = await runCaptured({
      program: 'sh',
      args: ['-c', 'echo "$LISTEN_PID $$"; env | grep -c ^LISTEN_PID='],
      listenPid: true,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LISTEN_PID: '1' },
    });
    assert.equal(exit.code, 0);
    assert.equal(output, `${pid} ${pid}\n1\n`);
  });
});

describe('Environ', () => {
  test('converted once, then derived: with() sets and replaces variables, the original stays as it was', () => {
    const base = Environ.of({ PATH: '/opt/bin', KEEP: 'a', GONE: undefined, GEN: 'outer' });
    assert.deepEqual(base.strings(), ['PATH=/opt/bin', 'KEEP=a', 'GEN=outer']);
    assert.equal(base.path, '/opt/bin');
    const derived = base.with({ GEN: '3', NEW: 'x=y' });
    assert.deepEqual(derived.strings(), ['PATH=/opt/bin', 'KEEP=a', 'GEN=3', 'NEW=x=y']);
    assert.deepEqual(derived.with({ NEW: 'z' }).strings(), ['PATH=/opt/bin', 'KEEP=a', 'GEN=3', 'NEW=z']);
    assert.deepEqual(base.strings(), ['PATH=/opt/bin', 'KEEP=a', 'GEN=outer']);
    assert.equal(base.with({ PATH: '/x' }).path, '/x');
    // a name that is the prefix of another is not that other
    assert.deepEqual(Environ.of({ KEEPER: '1', KEEP: '2' }).strings('KEEP'), ['KEEPER=1']);
  });

  test('spawned with again, an Environ goes to C prepared: every child gets the same strings, with its own LISTEN_PID and WATCHDOG_PID', async () => {
    const env = Environ.of({ PATH: '/usr/bin:/bin', KEEP: 'a', LISTEN_PID: 'stale', GEN: 'outer' }).with({ GEN: '3' });
    const printed: string[][] = [];
    for (let i = 0; i < 3; i++) {
      const { output, pid } = await runCaptured({ program: 'env', env, listenPid: true, watchdogPid: true });
      printed.push(output.trim().split('\n').map((line) => line.replaceAll(String(pid), '<pid>')));
    }
    // the first spawn converts as it goes, the next ones use the prepared base: the same strings each time
    assert.deepEqual(printed[0], ['PATH=/usr/bin:/bin', 'KEEP=a', 'GEN=3', 'LISTEN_PID=<pid>', 'WATCHDOG_PID=<pid>']);
    assert.deepEqual(printed[1], printed[0]);
    assert.deepEqual(printed[2], printed[0]);
    // and a derived environment shares that base without its replaced variable coming back
    const { output } = await runCaptured({ program: 'env', env: env.with({ NEW: 'n' }) });
    assert.deepEqual(output.trim().split('\n'), ['PATH=/usr/bin:/bin', 'KEEP=a', 'LISTEN_PID=stale', 'GEN=3', 'NEW=n']);
  });

  test('many children watched at once: each exit reaches its own callback, in the order they end, and none is left', async () => {
    // one epoll set holds every watched pidfd: twenty children, each ending when its stdin closes, ended in an
    // order other than their spawns'
    const children = Array.from({ length: 20 }, (_, index) => {
      const [read, write] = pipe();
      const child = spawnChild({ program: '/bin/sh', args: ['-c', `read line; exit ${index + 1}`], fds: [read, 1, 2] });
      closeSync(read);
      return { child, write, code: index + 1 };
    });
    const order = [...children.keys()].sort((a, b) => ((a * 7) % 20) - ((b * 7) % 20));
    const ended: number[] = [];
    for (const index of order) {
      const { child, write } = children[index]!;
      closeSync(write);
      const exit = await child.exited;
      ended.push(exit.code ?? -1);
    }
    assert.deepEqual(ended, order.map((index) => index + 1));
    assert.deepEqual(zombieChildren(), []);
  });

  test('a watched child keeps the loop alive until its exit is delivered, and nothing after it', async () => {
    // the script has nothing else to wait for: it ends once the exit came (at once, without printing, if the
    // watch held nothing; never, if it held the loop after the exit)
    const result = await runNodeScript(`
      const child = spawnChild({ program: '/bin/true' });
      child.exited.then((exit) => process.stdout.write(JSON.stringify(exit)));
    `);
    assert.deepEqual(result, { code: 0, signal: null, coreDumped: false });
  });

  test('a program is prepared once and started by each spawn: its fields are checked by name, spawn\'s arguments by position, and no other handle passes for a program', async () => {
    const [pid, pidfd] = spawnNative(BARE_SPEC);
    assert.ok(pid > 0);
    await new Promise<void>((resolve) => watchExit(pidfd, () => resolve()));
    closeSync(pidfd);
    // one prepared program, two children
    const program = prepareProgram(BARE_SPEC);
    const pids = [];
    for (let i = 0; i < 2; i++) {
      const [child, childPidfd] = spawnProgram(program, BARE_SPEC);
      pids.push(child);
      await new Promise<void>((resolve) => watchExit(childPidfd, (code) => (assert.equal(code, 0), resolve())));
      closeSync(childPidfd);
    }
    assert.notEqual(pids[0], pids[1]);
    assert.throws(() => (addon().spawn as (...fields: unknown[]) => unknown)(program), { name: 'TypeError', message: /spawn: expected \(program, envBase, env, layout\)/ });
    const handle = prepareStrings(['A=1']);
    assert.throws(() => spawnProgram(handle as never, BARE_SPEC), { name: 'TypeError', message: /spawn: program must be a handle from prepareProgram/ });
    assert.throws(() => addon().spawn(program, null, '', new Int32Array(3)), { name: 'TypeError', message: /spawn: layout must hold/ });
    const { uid: _missing, ...withoutUid } = BARE_SPEC;
    assert.throws(() => spawnNative(withoutUid as NativeSpawnSpec), { name: 'TypeError', message: /prepareProgram: uid/ });
    assert.throws(() => spawnNative({ ...BARE_SPEC, cwd: 7 as never }), { name: 'TypeError', message: /prepareProgram: cwd/ });
    assert.throws(() => spawnNative({ ...BARE_SPEC, argv: [] }), { name: 'TypeError', message: /at least the program name/ });
    assert.throws(() => spawnNative({ ...BARE_SPEC, fds: [0, 1, 'two' as never] }), { name: 'TypeError', message: /spawn: fds\[i\]/ });
  });

  test('a prepared program starts again and again with its arguments, directory and limits, each start with its own environment; looked up at each start, it is converted again when the lookup finds another file', async () => {
    // two programs of one name, in two directories: which one a start runs is its PATH's answer
    const dirs = ['a', 'b'].map((name) => {
      const dir = mkdtempSync(join(scratch, `path-${name}-`));
      writeFileSync(join(dir, 'which-one'), `#!/bin/sh\necho ${name} "$@" "$(pwd)" "$(ulimit -n)" "$GEN"\n`, { mode: 0o755 });
      return dir;
    });
    const prepared = new PreparedSpawn({ program: 'which-one', args: ['x'], cwd: '/', rlimits: { nofile: { soft: 55, hard: 55 } } });
    const base = Environ.of({ PATH: dirs[0] as string });
    const run = async (env: Environ): Promise<string> => (await runCaptured({ program: 'unused', env }, prepared)).output.trim();
    assert.equal(await run(base.with({ GEN: '1' })), 'a x / 55 1');
    assert.equal(await run(base.with({ GEN: '2' })), 'a x / 55 2');
    assert.equal(await run(base.with({ PATH: dirs[1] as string, GEN: '3' })), 'b x / 55 3');
    assert.equal(await run(base.with({ GEN: '4' })), 'a x / 55 4');
    // one-offs: each its own arguments, directory and limits
    const seen = async (args: string[], extra: Partial<SpawnOptions> = {}): Promise<string> =>
      (await runCaptured({ program: '/bin/sh', args: ['-c', 'echo "$@" "$(pwd)" "$(ulimit -n)"', 'sh', ...args], ...extra })).output.trim();
    assert.match(await seen(['one']), new RegExp(`^one ${process.cwd()} \\d+$`));
    assert.equal(await seen(['two'], { cwd: '/', rlimits: { nofile: { soft: 77, hard: 77 } } }), 'two / 77');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('a prepared list is checked as spawn checks strings, and no other handle passes for one', () => {
    assert.throws(() => prepareStrings(['OK=1', 'BAD=a\0b']), { name: 'TypeError', message: /NUL/ });
    const fd = eventfd();
    const watch = watchFd(fd, false, () => {});
    try {
      assert.throws(
        () => spawnNative({ ...BARE_SPEC, envBase: watch as never }),
        { name: 'TypeError', message: /spawn: envBase: expected a list from prepareStrings/ },
      );
    } finally {
      unwatchFd(watch);
      closeSync(fd);
    }
  });

  test('an environment string with a NUL byte is refused whole, never read as two variables', () => {
    // env goes to C as one string, each variable ended by a NUL: C counts them against the layout's count
    const smuggled = { ...BARE_SPEC, env: ['OK=1', 'BAD=a\0LD_PRELOAD=/tmp/x.so'] };
    assert.throws(() => spawnNative(smuggled), { name: 'TypeError', message: /spawn: env: .*holds a NUL byte/ });
    assert.throws(() => spawnChild({ program: '/bin/true', env: { BAD: 'a\0LD_PRELOAD=/tmp/x.so' } }), { name: 'TypeError', message: /holds a NUL byte/ });
    const program = prepareProgram(BARE_SPEC);
    const layout = Int32Array.from([1, -1, -1, -1, -1, 0, 0, 0, 0, 0]); // the numbers of native/process.c enum spawn_layout, no fds
    assert.throws(() => addon().spawn(program, null, 'A=1\0B=2\0', layout), { name: 'TypeError', message: /its count of strings/ });
    assert.throws(() => addon().spawn(program, null, 'A=1', layout), { name: 'TypeError', message: /its count of strings/ });
    // a pid slot must bring its room: the child writes its pid after the '='
    assert.throws(() => spawnNative({ ...BARE_SPEC, env: ['LISTEN_PID='], listenPidIndex: 0 }), { name: 'TypeError', message: /listenPidIndex must point at a NAME= string of env with 20 bytes of room/ });
    assert.throws(() => spawnNative({ ...BARE_SPEC, env: ['A=1'], watchdogPidIndex: 1 }), { name: 'TypeError', message: /watchdogPidIndex must point/ });
    assert.equal(layout[5], 0, 'no child started');
    assert.deepEqual(zombieChildren(), []);
  });

  test('the child gets exactly the strings of an Environ, and the program is looked up in its PATH', async () => {
    const env = Environ.of({ PATH: dirname(fixture('crasher')), ONLY: 'this' }).with({ ANGEL_GENERATION: '7' });
    const { exit, output } = await runCaptured({ program: 'fd-list', env });
    assert.equal(exit.code, 0, 'fd-list found in the Environ\'s PATH');
    assert.ok(output.length > 0);
    const printed = await runCaptured({ program: '/usr/bin/env', env });
    assert.deepEqual(printed.output.trim().split('\n'), [`PATH=${dirname(fixture('crasher'))}`, 'ONLY=this', 'ANGEL_GENERATION=7']);
  });
});

describe('hygiene', () => {
  test('1000 spawn/exit cycles leave no fd and no zombie behind', async () => {
    await spawnChild({ program: '/bin/true' }).exited; // warm-up: first-use allocations are not leaks
    const fdsBefore = openFdCount();
    const childrenBefore = childPids();
    for (let i = 0; i < 1000; i++) {
      const exit = await spawnChild({ program: '/bin/true' }).exited;
      assert.deepEqual(exit, { code: 0, signal: null, coreDumped: false });
    }
    assert.equal(openFdCount(), fdsBefore);
    assert.deepEqual(childPids(), childrenBefore, 'every child reaped');
    assert.deepEqual(zombieChildren(), []);
  });

  test('child_process keeps working beside the addon, each with its own exit statuses', async () => {
    const viaNode = (script: string): Promise<[number | null, NodeJS.Signals | null]> =>
      new Promise((resolve, reject) => {
        nodeSpawn('sh', ['-c', script]).on('error', reject).on('exit', (code, signal) => resolve([code, signal]));
      });
    const viaAddon = async (script: string): Promise<[number | null, NodeJS.Signals | null]> => {
      const { code, signal } = await spawnChild({ program: 'sh', args: ['-c', script] }).exited;
      return [code, signal];
    };
    const scripts = ['exit 4', 'exit 5', 'exit 0', 'kill -TERM $$', 'exit 9', 'kill -KILL $$'];
    // interleaved, all in flight at once
    const results = await Promise.all(scripts.flatMap((script) => [viaNode(script), viaAddon(script)]));
    const expected: Array<[number | null, NodeJS.Signals | null]> = [[4, null], [5, null], [0, null], [null, 'SIGTERM'], [9, null], [null, 'SIGKILL']];
    assert.deepEqual(results, expected.flatMap((status) => [status, status]));
    assert.equal(zombieChildren().length, 0);
  });
});
