// --max-mem N% and --cgroup with real cgroups (v1, the memory hierarchy these machines mount): each test makes a
// cgroup of its own under the test process's, starts angel in it, and checks what angel made and left there.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { reachable } from '../helpers/reachable.js';
import { AngelRun, fixture } from '../helpers/events.js';
import { eventually, home, leftIn, noV1, removeTestCgroup, testCgroup } from '../helpers/cgroup.js';
import { isAlive } from '../helpers/proc.js';
import { scratchDir } from '../helpers/cleanup.js';

const MiB = 2 ** 20;
const DAEMON = 'setsid sleep 1000 & echo daemon $!; exec sleep 1000';

/** angel in a fresh test cgroup; the cgroup is removed (and whatever is in it killed) after the test. */
async function inCgroup(limitBytes: number | undefined, body: (dir: string) => Promise<void>): Promise<void> {
  const dir = testCgroup(limitBytes);
  try {
    await body(dir);
  } finally {
    await removeTestCgroup(dir);
  }
}

const number = (line: string): number => Number(line.split(' ')[1]);

describe('cgroup v1', { skip: noV1 }, () => {
  test('--max-mem 50% is half the limit of the cgroup angel runs in: in angel check, and in the start event with and without --cgroup', async () => {
    await inCgroup(256 * MiB, async (dir) => {
      const config = join(scratchDir('angel-cgroup-'), 'angel.json');
      writeFileSync(config, '{"program": "true"}');
      const check = new AngelRun(['check', '--config', config, '--max-mem', '50%'], { json: false, cgroup: dir });
      assert.equal(await check.status(), 0, check.stderrText.join('\n'));
      assert.equal(JSON.parse(check.stdout.items.join('\n')).capBytes, 128 * MiB);
      for (const extra of [[], ['--cgroup']]) {
        const run = new AngelRun(['--max-mem', '50%', ...extra, '--', 'sleep', '1000'], { cgroup: dir });
        try {
          const start = await run.event('start');
          assert.equal(start.capBytes, 128 * MiB, `start event with ${extra.join(' ') || 'no --cgroup'}`);
          run.signal('SIGTERM');
          assert.equal(await run.status(), 143);
        } finally {
          run.kill();
        }
      }
    });
  });

  test('--max-mem N% with no limit on the way up is N% of the machine\'s memory, with a warning (systemd\'s MemoryMax=N%)', async () => {
    // the test's own cgroup and those above it have no limit on these machines; a child of it has none either
    const limit = /^hierarchical_memory_limit (\d+)$/m.exec(execFileSync('cat', [join(home?.dir ?? '', 'memory.stat')], { encoding: 'utf8' }))?.[1];
    if (Number(limit) < 2 ** 62) return assert.fail(`the test's own cgroup has a limit (${limit}): this case needs one without`);
    const machine = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'latin1'))?.[1]) * 1024;
    const share = Math.floor((machine * 0.8) / 4096) * 4096;
    await inCgroup(undefined, async (dir) => {
      const check = new AngelRun(['check', '--max-mem', '80%', '--', 'true'], { json: false, cgroup: dir });
      assert.equal(await check.status(), 0);
      assert.equal(JSON.parse(check.stdout.items.join('\n')).capBytes, share);
      assert.equal(JSON.parse(check.stdout.items.join('\n')).capOf, 'machine');
      assert.match(check.stderrText.join('\n'), /^angel: warning: --max-mem \d+ bytes is 80% of the machine's memory/m);
      const run = new AngelRun(['--max-mem', '80%', '--restart', 'never', '--', 'true'], { cgroup: dir });
      assert.equal(await run.status(), 0);
      assert.equal((await run.event('start')).capBytes, share);
      assert.match((await run.event('warning')).message as string, /^--max-mem 80%: no memory limit is set on angel's cgroup or above it, so the cap is that share of the machine's memory/);
    });
  });

  test('page cache alone is no overrun: a file read past the cap in the generation\'s cgroup, a clean exit', async () => {
    const scratch = mkdtempSync(join(process.cwd(), '.angel-cache-'));
    try {
      const file = join(scratch, 'big');
      // written past the page cache, so the reader's cgroup is the one its pages are charged to
      execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', 'count=128', 'oflag=direct', 'status=none']);
      await inCgroup(undefined, async (dir) => {
        const read = 'cat "$0" > /dev/null; echo peak $(cat "$1$(sed -n "s/^[0-9]*:memory://p" /proc/self/cgroup)/memory.max_usage_in_bytes")';
        const run = new AngelRun(['--cgroup', '--max-mem', '32M', '--restart', 'never', '--', 'sh', '-c', read, file, home?.mount ?? ''], { cgroup: dir });
        try {
          const peak = number(await run.line(/^peak \d+$/, 20_000));
          assert.ok(peak > 32 * MiB, `the cache took the generation's usage past the cap (peak ${peak})`);
          assert.ok(peak <= 48 * MiB, `and the kernel held it at 1.5x the cap (peak ${peak})`);
          const exit = await run.event('exit', () => true, 20_000);
          assert.equal(exit.reason, 'exit');
          assert.equal(await run.status(), 0);
          assert.equal(run.count('overrun'), 0);
          assert.deepEqual(leftIn(dir).cgroups, []);
        } finally {
          run.kill();
        }
      });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  test('a daemonized leaker (double fork, setsid) is counted, stopped and killed with its generation', async () => {
    await inCgroup(undefined, async (dir) => {
      const run = new AngelRun(['--cgroup', '--max-mem', '32M', '--restart', 'never', '--kill-timeout', '3000', '--', fixture('daemon-leaker'), '4', '20'], { cgroup: dir });
      try {
        const daemon = number(await run.line(/^daemon \d+$/));
        const overrun = await run.event('overrun');
        assert.ok((overrun.rssBytes as number) > 32 * MiB);
        assert.equal((await run.event('exit')).reason, 'overrun');
        await run.status();
        assert.equal(isAlive(daemon), false, 'the daemon went with its generation');
        assert.deepEqual(leftIn(dir), { cgroups: [], pids: [] });
      } finally {
        run.kill();
      }
    });
  });

  test('a step just past the cap that then stops growing is told by the kernel (the early threshold), not found by the fallback', async () => {
    await inCgroup(undefined, async (dir) => {
      // the periodic sample at most every 10 minutes: only a notice can find this overrun within the test
      const run = new AngelRun(['--cgroup', '--max-mem', '32M', '--sample-interval', '10m', '--restart', 'never', '--', fixture('step'), '34'], { cgroup: dir });
      try {
        // caught at the end of the step or already during it (the notice at the cap can come first): either way by
        // the kernel's word, since nothing else looks within the test's time
        const overrun = await run.event('overrun', () => true, 20_000);
        assert.ok((overrun.rssBytes as number) > 32 * MiB);
        assert.equal((await run.event('exit')).reason, 'overrun');
        assert.equal(await run.status(), 143);
      } finally {
        run.kill();
      }
    });
  });

  test('a kernel OOM kill (past the 1.5x ceiling, the stop signal ignored) is an exit with reason oom, and restarts', async () => {
    await inCgroup(undefined, async (dir) => {
      const hog = `trap "" TERM; exec ${fixture('leaker')} 8 5`;
      const run = new AngelRun(['--cgroup', '--max-mem', '32M', '--kill-timeout', '30000', '--max-restarts', '1', '--', 'sh', '-c', hog], { cgroup: dir });
      try {
        const exit = await run.event('exit', (event) => event.generation === 0);
        assert.equal(exit.reason, 'oom');
        assert.equal(exit.signal, 'SIGKILL');
        await run.event('start', (event) => event.generation === 1);
        run.signal('SIGKILL');
        await run.status();
      } finally {
        run.kill();
      }
    });
  });

  test('nothing is left in or of the cgroups after a reload and a shutdown: the generations\' daemons go too', async () => {
    await inCgroup(undefined, async (dir) => {
      const run = new AngelRun(['--cgroup', '--', 'sh', '-c', DAEMON], { cgroup: dir });
      try {
        const first = number(await run.line(/^daemon \d+$/));
        const [angelDir] = leftIn(dir).cgroups;
        assert.match(angelDir ?? '', /^angel\.[0-9a-f]{16}$/);
        assert.deepEqual(leftIn(dir).cgroups, [angelDir, `${angelDir}/gen.0`]);
        run.signal('SIGHUP');
        assert.equal((await run.event('exit', (event) => event.generation === 0)).reason, 'reload');
        const second = number(await run.stdout.waitFor((line) => /^daemon \d+$/.test(line) && number(line) !== first, 'the next daemon', 10_000));
        await eventually(() => !leftIn(dir).cgroups.includes(`${angelDir}/gen.0`), 'gen.0 removed');
        assert.equal(isAlive(first), false, 'the first generation\'s daemon went with it');
        run.signal('SIGTERM');
        assert.equal(await run.status(), 143);
        assert.equal(isAlive(second), false);
        assert.deepEqual(leftIn(dir), { cgroups: [], pids: [] });
      } finally {
        run.kill();
      }
    });
  });

  test('what an angel killed with SIGKILL left (its cgroups, a daemon in them) is killed and removed by the next one', async () => {
    await inCgroup(undefined, async (dir) => {
      const killed = new AngelRun(['--cgroup', '--', 'sh', '-c', DAEMON], { cgroup: dir });
      let next: AngelRun | null = null;
      try {
        const daemon = number(await killed.line(/^daemon \d+$/));
        killed.signal('SIGKILL');
        // not its 'close': the daemon holds angel's stdout and stderr
        await eventually(() => !isAlive(killed.process.pid as number), 'angel killed');
        const [leftover] = leftIn(dir).cgroups;
        assert.ok(leftover && isAlive(daemon), 'the daemon outlived the SIGKILL, in the cgroup angel left');
        next = new AngelRun(['--cgroup', '--', 'sleep', '1000'], { cgroup: dir });
        await next.event('start');
        await eventually(() => !leftIn(dir).cgroups.includes(leftover), `${leftover} removed`);
        assert.equal(isAlive(daemon), false);
        next.signal('SIGTERM');
        await next.status();
        assert.deepEqual(leftIn(dir), { cgroups: [], pids: [] });
      } finally {
        killed.kill();
        next?.kill();
      }
    });
  });

  test('--cgroup where angel may not make a cgroup is a usage error naming the path and the errno', () => {
    // angel as nobody, in the test's own cgroup: its files are root's
    // nobody runs a copy it can reach: the checkout may sit in a 0700 directory (a root user's home)
    const run = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, reachable('dist/src/face/cli.js'), '--cgroup', '--', 'true'], { encoding: 'utf8' });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /^angel: --cgroup: cannot mkdir \(EACCES\), got ".*\/angel\.[0-9a-f]{16}"\n$/);
  });
});
