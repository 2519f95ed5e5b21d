// angel as a container's PID 1, tini's test suite in spirit: in a PID namespace of its own (unshare --pid --fork
// --mount-proc), exit statuses pass through, a thousand orphans leave no zombie, signals from outside shut it down
// gracefully, a child that ignores SIGTERM is killed at --kill-timeout, and a stopped child still shuts down.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { describe, test } from 'node:test';
import { AngelRun, fixture } from '../helpers/events.js';

const PID1 = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'];

/** Whether this machine lets us make PID namespaces (root, and unshare(1) from util-linux). */
const unavailable = ((): string | false => {
  const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']);
  if (probe.error) return `unshare(1) is not installed (${(probe.error as NodeJS.ErrnoException).code}): apt-get install util-linux`;
  return probe.status === 0 ? false : `unshare --pid fails here: ${probe.stderr.toString().trim()}`;
})();

/** angel's own pid as the host sees it: the node process under unshare. */
async function hostPidOf(run: AngelRun): Promise<number> {
  await run.event('start');
  const unshare = run.process.pid as number;
  const children = readFileSync(`/proc/${unshare}/task/${unshare}/children`, 'latin1').trim().split(' ').map(Number);
  const angel = children.find((pid) => readFileSync(`/proc/${pid}/comm`, 'latin1').startsWith('node'));
  assert.ok(angel, 'angel runs under unshare');
  return angel;
}

describe('as PID 1', { skip: unavailable }, () => {
  test('angel is PID 1 there, and its child sees it as its parent', async () => {
    const run = new AngelRun(['--restart', 'never', '--', 'sh', '-c', 'echo "parent $PPID"'], { prefix: PID1 });
    assert.equal(await run.line(/^parent /), 'parent 1');
    assert.equal(await run.status(), 0);
  });

  // Every status travels the same path (waitid, the lifecycle, process.exit); the library test in test/index.test.ts
  // takes all 256 through it in one process. Here, as PID 1, the edges of each range a shell gives meaning to.
  test('exit statuses at the edges of every range pass through, and a death by signal n as 128+n', async () => {
    const codes = [0, 1, 2, 63, 64, 125, 126, 127, 128, 129, 137, 143, 254, 255];
    const signals = ['HUP', 'INT', 'KILL', 'SEGV', 'TERM', 'USR2'] as const;
    const cases = [
      ...codes.map((code) => ({ script: `exit ${code}`, expected: code })),
      ...signals.map((signal) => ({ script: `kill -${signal} $$`, expected: 128 + constants.signals[`SIG${signal}`] })),
    ];
    const statuses = await Promise.all(cases.map(({ script }) => new AngelRun(['--restart', 'never', '--', 'sh', '-c', script], { prefix: PID1 }).status(30_000)));
    const failures = cases.flatMap(({ script, expected }, index) => (statuses[index] === expected ? [] : [`${script} -> ${statuses[index]}, not ${expected}`]));
    assert.deepEqual(failures, []);
  });

  test('a thousand orphans (double forks, setsid, chains three deep) leave zero zombies', async () => {
    const run = new AngelRun(['--restart', 'never', '--', fixture('orphans'), '1000'], { prefix: PID1 });
    assert.equal(await run.line(/^zombies /, 30_000), 'zombies 0');
    assert.equal(await run.status(30_000), 0);
  });

  test('orphans that outlive their generation die with it; none outlives angel', async () => {
    const run = new AngelRun(['--restart', 'never', '--', 'sh', '-c', '(setsid sleep 301 &); (sleep 302 &); echo started'], { prefix: PID1 });
    await run.line(/^started$/);
    assert.equal(await run.status(), 0);
    const left = spawnSync('pgrep', ['-f', '^sleep 30[12]$']).stdout.toString().trim();
    assert.equal(left, '', 'no sleep survived');
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} from outside the namespace: a graceful shutdown with the child's status`, async () => {
      const run = new AngelRun(['--', fixture('trapper'), '7'], { prefix: PID1 });
      await run.line(/^ready /);
      process.kill(await hostPidOf(run), signal);
      await run.line(new RegExp(`^got ${signal}$`));
      assert.equal(await run.status(), 7);
      assert.equal((await run.event('shutdown')).cause, signal);
    });
  }

  test('a child that ignores SIGTERM is SIGKILLed at --kill-timeout', async () => {
    const run = new AngelRun(['--kill-timeout', '300', '--', fixture('trapper'), 'ignore'], { prefix: PID1 });
    await run.line(/^ready /);
    process.kill(await hostPidOf(run), 'SIGTERM');
    await run.line(/^got SIGTERM$/);
    assert.equal(await run.status(), 137);
  });

  test('a stopped child (SIGSTOP) still shuts down: SIGCONT follows the stop signal', async () => {
    const run = new AngelRun(['--kill-timeout', '10000', '--', fixture('trapper'), '3'], { prefix: PID1 });
    await run.line(/^ready /);
    process.kill(childHostPid(await hostPidOf(run)), 'SIGSTOP');
    process.kill(await hostPidOf(run), 'SIGTERM');
    assert.equal(await run.status(), 3, 'the child woke, handled SIGTERM and exited 3, well before the kill timeout');
  });
});

/** The host pid of angel's child. */
function childHostPid(angel: number): number {
  const [child] = readFileSync(`/proc/${angel}/task/${angel}/children`, 'latin1').trim().split(' ').map(Number);
  assert.ok(child);
  return child;
}
