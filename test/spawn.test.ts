// The native spawn, with real processes and the real addon: limits, fds, dispositions, ids, errors, exits.
import assert from 'node:assert/strict';
import { spawn as nodeSpawn } from 'node:child_process';
import { chmodSync, mkdtempSync, openSync, closeSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SpawnError } from '../src/errors.js';
import { spawnChild } from '../src/spawn.js';
import { fixture } from './helpers/events.js';
import { isAlive } from './helpers/proc.js';
import { limitsText, openFdCount, runCaptured, scratch, zombieChildren } from './helpers/spawn-output.js';

const MiB = 2 ** 20;

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
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
    assert.match(output, /Max open files\s+77\s+99\s+files/);
    assert.match(output, new RegExp(`Max address space\\s+${512 * MiB}\\s+${768 * MiB}\\s+bytes`));
    assert.match(output, /Max processes\s+321\s+654\s+processes/);
    assert.match(output, /Max core file size\s+0\s+unlimited\s+bytes/);
    assert.equal(limitsText('self'), before);
  });

  test('a child that opens files until it fails gets EMFILE at the NOFILE limit', async () => {
    const { output } = await runCaptured({ program: fixture('fd-hog'), rlimits: { nofile: { soft: 40, hard: 40 } } });
    // 40 minus the three stdio fds
    assert.equal(output.trim(), 'opened 37 EMFILE');
  });

  test('a child that maps memory past AS gets ENOMEM, and this process is untouched', async () => {
    const before = limitsText('self');
    const { exit, output } = await runCaptured({ program: fixture('vmem-hog'), rlimits: { as: { soft: 256 * MiB, hard: 256 * MiB } } });
    assert.equal(exit.code, 0);
    const [, mapped, errno] = /^mapped (\d+) (\S+)$/.exec(output.trim()) ?? [];
    assert.equal(errno, 'ENOMEM');
    assert.ok(Number(mapped) < 256 && Number(mapped) >= 128, `mapped ${mapped} MiB under a 256 MiB AS limit`);
    assert.equal(limitsText('self'), before);
    assert.ok(Buffer.alloc(300 * MiB, 1).length > 0, 'this process can still allocate more than the child could');
  });
});

describe('errors', () => {
  const expectSpawnError = (run: () => unknown, code: string, step: RegExp, program: string): void => {
    const zombiesBefore = zombieChildren().length;
    assert.throws(run, (error: unknown) => {
      assert.ok(error instanceof SpawnError, String(error));
      assert.equal(error.code, code);
      assert.match(error.message, step);
      assert.ok(error.message.includes(program), error.message);
      return true;
    });
    assert.equal(zombieChildren().length, zombiesBefore, 'the failed child was reaped');
  };

  test('ENOENT for a missing program', () => {
    const program = join(scratch, 'missing');
    expectSpawnError(() => spawnChild({ program }), 'ENOENT', /: execve: ENOENT/, program);
    expectSpawnError(() => spawnChild({ program: 'no-such-program-anywhere' }), 'ENOENT', /execve: ENOENT/, 'no-such-program-anywhere');
  });

  test('EACCES for a file that is not executable', () => {
    const program = join(scratch, 'not-executable');
    writeFileSync(program, '#!/bin/sh\n');
    chmodSync(program, 0o644);
    expectSpawnError(() => spawnChild({ program }), 'EACCES', /: execve: EACCES/, program);
  });

  test('EPERM from setrlimit when a hard limit is above what the kernel allows', () => {
    const nrOpen = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8'));
    expectSpawnError(
      () => spawnChild({ program: '/bin/true', rlimits: { nofile: { soft: 64, hard: nrOpen + 1 } } }),
      'EPERM', /: setrlimit\(NOFILE\): EPERM/, '/bin/true',
    );
  });

  test('EPERM from setuid for a process that may not change its uid', async () => {
    const spawnModule = fileURLToPath(new URL('../src/spawn.js', import.meta.url));
    const script = `import { spawnChild } from ${JSON.stringify(spawnModule)};
      try { spawnChild({ program: '/bin/true', uid: 0 }); console.log('spawned'); }
      catch (error) { console.log(error.code, error.message); }`;
    const { exit, output } = await runCaptured({ program: process.execPath, args: ['--input-type=module', '-e', script], uid: 65534, gid: 65534, groups: [] });
    assert.equal(exit.code, 0);
    assert.equal(output.trim(), 'EPERM spawn /bin/true: setuid: EPERM');
  });
});

describe('exits', () => {
  test('exit code, terminating signal and core dump are reported exactly', async () => {
    assert.deepEqual(await spawnChild({ program: fixture('crasher'), args: ['exit', '3'] }).exited, { code: 3, signal: null, coreDumped: false });
    assert.deepEqual(
      await spawnChild({ program: fixture('crasher'), args: ['segv'], rlimits: { core: { soft: 0, hard: 0 } } }).exited,
      { code: null, signal: 'SIGSEGV', coreDumped: false },
    );
    const child = spawnChild({ program: 'sleep', args: ['30'] });
    assert.equal(child.signal('SIGKILL'), true);
    assert.deepEqual(await child.exited, { code: null, signal: 'SIGKILL', coreDumped: false });
    assert.equal(child.signal('SIGTERM'), false, 'no signal reaches an exited child');
  });

  test('a core dump is reported when the kernel writes one', async (t) => {
    const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim();
    if (pattern.startsWith('|')) {
      t.diagnostic(`core_pattern pipes to ${pattern}: the kernel's own handler decides, so only the flag's type is checked`);
    }
    const cwd = mkdtempSync(join(scratch, 'core-'));
    const child = spawnChild({ program: fixture('crasher'), args: ['abort'], cwd, rlimits: { core: { soft: -1, hard: -1 } } });
    const exit = await child.exited;
    assert.equal(exit.signal, 'SIGABRT');
    if (pattern === 'core') {
      // a plain pattern: the kernel writes `core` (or `core.<pid>`, core(5)) into the child's cwd
      const usesPid = readFileSync('/proc/sys/kernel/core_uses_pid', 'utf8').trim() === '1';
      assert.equal(exit.coreDumped, true);
      assert.ok(existsSync(join(cwd, usesPid ? `core.${child.pid}` : 'core')), 'the core file exists');
    } else {
      assert.equal(typeof exit.coreDumped, 'boolean');
    }
  });
});

describe('the child\'s starting state', () => {
  test('its fds are exactly 0, 1, 2 and those mapped; nothing of ours leaks', async () => {
    const extra = [openSync('/dev/null', 'r'), openSync('/dev/null', 'r')];
    const mapped = openSync(join(scratch, 'mapped'), 'w');
    try {
      const { output } = await runCaptured({ program: fixture('fd-list'), fds: [0, 1, 2, mapped] });
      assert.deepEqual(output.trim().split('\n').map(Number), [0, 1, 2, 3]);
      const plain = await runCaptured({ program: fixture('fd-list') });
      assert.deepEqual(plain.output.trim().split('\n').map(Number), [0, 1, 2]);
    } finally {
      for (const fd of [...extra, mapped]) closeSync(fd);
    }
  });

  test('no signal is ignored or blocked in the child, though Node ignores SIGPIPE here', async () => {
    const ours = readFileSync('/proc/self/status', 'utf8');
    assert.notEqual(/SigIgn:\s+(\S+)/.exec(ours)?.[1], '0000000000000000', 'the test process ignores something (SIGPIPE)');
    const { output } = await runCaptured({ program: 'grep', args: ['-E', '^Sig(Ign|Blk):', '/proc/self/status'] });
    assert.match(output, /SigBlk:\s+0000000000000000/);
    assert.match(output, /SigIgn:\s+0000000000000000/);
  });

  test('it leads its own session and process group, and signalGroup reaches a grandchild', async () => {
    const out = join(scratch, 'forker');
    const fd = openSync(out, 'w');
    const child = spawnChild({ program: fixture('forker'), fds: [0, fd, 2] });
    closeSync(fd);
    await until(() => /grandchild \d+/.test(readFileSync(out, 'utf8')), 'the grandchild pid');
    const grandchild = Number(/grandchild (\d+)/.exec(readFileSync(out, 'utf8'))?.[1]);
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const [, , pgrp, session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    assert.equal(Number(pgrp), child.pid);
    assert.equal(Number(session), child.pid);
    assert.ok(isAlive(grandchild));
    assert.equal(child.signalGroup('SIGTERM'), true);
    assert.equal((await child.exited).signal, 'SIGTERM');
    await until(() => !isAlive(grandchild), 'the grandchild to end');
  });

  test('LISTEN_PID is the child\'s own pid', async () => {
    const { output, pid } = await runCaptured({ program: 'sh', args: ['-c', 'echo "$LISTEN_PID $$"'], listenPid: true, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    assert.equal(output.trim(), `${pid} ${pid}`);
  });
});

describe('hygiene', () => {
  test('1000 spawn/exit cycles leave no fd and no zombie behind', async () => {
    await spawnChild({ program: '/bin/true' }).exited; // warm-up: first-use allocations are not leaks
    const fdsBefore = openFdCount();
    const zombiesBefore = zombieChildren().length;
    for (let i = 0; i < 1000; i++) {
      const exit = await spawnChild({ program: '/bin/true' }).exited;
      assert.equal(exit.code, 0);
    }
    assert.equal(openFdCount(), fdsBefore);
    assert.equal(zombieChildren().length, zombiesBefore);
  });

  test('child_process keeps working beside the addon, each with its own exit statuses', async () => {
    const nodeExit = (code: number): Promise<number | null> =>
      new Promise((resolve) => nodeSpawn('sh', ['-c', `exit ${code}`]).on('exit', (status) => resolve(status)));
    const results = await Promise.all([
      nodeExit(4), spawnChild({ program: 'sh', args: ['-c', 'exit 5'] }).exited,
      nodeExit(6), spawnChild({ program: 'sh', args: ['-c', 'exit 7'] }).exited,
      nodeExit(8), spawnChild({ program: 'sh', args: ['-c', 'kill -TERM $$'] }).exited,
    ]);
    assert.deepEqual(results, [
      4, { code: 5, signal: null, coreDumped: false },
      6, { code: 7, signal: null, coreDumped: false },
      8, { code: null, signal: 'SIGTERM', coreDumped: false },
    ]);
  });
});
