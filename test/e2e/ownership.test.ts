// A generation owns everything it started, whether anything samples it or not, and an angel owns only its own
// names: a setsid daemon goes with its generation at a crash restart and at a reload (as subreaper and as PID 1),
// the daemon gets the grace period too, a kill -9 of angel leaves no grandchild holding the port for the next
// one, READY=1 from the generation's own daemon counts, and a SIGHUP during a reload lands.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { freePort } from '../../support/net.js';
import { controlSocketOf } from '../../src/kernel/runtime.js';
import { AngelRun, fixture } from '../helpers/events.js';
import { isAlive } from '../helpers/proc.js';
import { scratchDir } from '../helpers/cleanup.js';

const PID1 = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'];
let made = 0;

/** A generation that leaves a setsid daemon (its own session, reparented to angel once the shell is gone),
 * `sleep <token><generation>` so the host can find it whatever PID namespace it is in and tell generation 0's
 * from the next one's, then does `then`. `daemon` is generation 0's. */
function withDaemon(then: string): { args: string[]; daemon: string } {
  const token = String(100_000 + process.pid * 10 + made++);
  return { args: ['sh', '-c', `(setsid sleep ${token}$ANGEL_GENERATION &); echo daemon started; ${then}`], daemon: `sleep ${token}0` };
}

/** Whether a process with exactly this command line lives (not a zombie), as the host sees it. */
function running(commandLine: string): boolean {
  for (const name of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ') === commandLine && isAlive(Number(name))) return true;
    } catch {}
  }
  return false;
}

/** Waits until a process with this command line is running (`wanted`) or gone; false at the deadline. */
async function untilRunning(commandLine: string, wanted: boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (running(commandLine) !== wanted) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

const goneFor = (commandLine: string, timeoutMs: number): Promise<boolean> => untilRunning(commandLine, false, timeoutMs);

/** angel's own pid as the host sees it: the process itself, or (as PID 1) the node process under unshare. */
async function angelPid(run: AngelRun, pid1: boolean): Promise<number> {
  await run.event('start');
  const pid = run.process.pid as number;
  if (!pid1) return pid;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(' ').map(Number);
  const angel = children.find((child) => readFileSync(`/proc/${child}/comm`, 'latin1').startsWith('node'));
  assert.ok(angel);
  return angel;
}

for (const [mode, prefix] of [['as a subreaper', []], ['as PID 1', PID1]] as const) {
  describe(`a daemon goes with its generation when nothing samples, ${mode}`, () => {
    test('at a crash restart', async () => {
      const { args, daemon } = withDaemon('exit 3');
      const run = new AngelRun(['--max-restart-delay', '0', '--max-restarts', '5', '--min-uptime', '1h', '--', ...args], { prefix });
      await run.line(/^daemon started$/);
      await run.event('start', (event) => event.generation === 1);
      assert.equal(await goneFor(daemon, 10_000), true, 'generation 0\'s daemon was stopped with it, not left beside generation 1');
      run.kill();
    });

    test('at a reload', async () => {
      const { args, daemon } = withDaemon('exec sleep 1000');
      const run = new AngelRun(['--', ...args], { prefix });
      await run.line(/^daemon started$/);
      const angel = await angelPid(run, prefix.length > 0);
      // "daemon started" is echoed as the daemon's subshell is forked, before its sleep has exec'd
      assert.equal(await untilRunning(daemon, true, 10_000), true, 'generation 0\'s daemon runs');
      process.kill(angel, 'SIGHUP');
      await run.event('start', (event) => event.generation === 1);
      assert.equal(await goneFor(daemon, 10_000), true, 'generation 0\'s daemon went with generation 0');
      process.kill(angel, 'SIGTERM');
      assert.equal(await run.status(), 143);
    });
  });
}

test('a daemon gets the grace period too: SIGKILL comes at the deadline, not when the first process exits', async () => {
  // the daemon takes its time over SIGTERM (a second, within the 5 s grace); the first process dies at once
  const daemon = 'trap "echo daemon got SIGTERM; sleep 1; echo daemon finished; exit 0" TERM; echo daemon up; while :; do sleep 0.05; done';
  const run = new AngelRun(['--kill-timeout', '5s', '--', 'sh', '-c', `(setsid sh -c '${daemon}' &); exec sleep 1000`]);
  await run.line(/^daemon up$/);
  await run.event('start');
  run.signal('SIGTERM');
  await run.line(/^daemon got SIGTERM$/);
  assert.equal(await run.line(/^daemon finished$/), 'daemon finished', 'it was not SIGKILLed when the first process exited');
  assert.equal(await run.status(), 143);
});

test('kill -9 of angel: a wrapper\'s server grandchild holding the port is stopped by the next angel, which binds', async () => {
  const port = await freePort();
  // sh is angel's child and gets the parent-death signal; sleep, its child, holds the listening socket (fd 3)
  const args = ['--listen', `127.0.0.1:${port}`, '--', 'sh', '-c', 'echo "server $$"; sleep 1000; echo done'];
  const first = new AngelRun(args);
  await first.line(/^server \d+$/);
  await first.event('start');
  await first.recorded(0);
  first.signal('SIGKILL');
  // its output pipes stay open while the grandchild lives: the process's own end, not the pipes' close
  await new Promise((resolve) => (first.process.exitCode !== null || first.process.signalCode !== null ? resolve(null) : first.process.once('exit', resolve)));
  const second = new AngelRun(args);
  await second.event('start');
  assert.equal(second.events.items.some((event) => event.event === 'spawn-error'), false);
  second.signal('SIGTERM');
  assert.equal(await second.status(), 143, 'the next angel bound the port and ran');
});

test('READY=1 from the generation\'s own setsid daemon counts (one rule of membership); another process\'s does not', async () => {
  const run = new AngelRun(['--ready', 'notify', '--', 'sh', '-c', `(setsid ${fixture('notifier')} send:READY=1 hang &); exec sleep 1000`]);
  const ready = await run.event('ready');
  assert.equal(ready.generation, 0);
  assert.equal(run.events.items.some((event) => event.event === 'warning' && /NOTIFY_SOCKET/.test(String(event.message))), false);
  run.signal('SIGTERM');
  assert.equal(await run.status(), 143);
});

test('a SIGHUP during a reload is not lost: the config it read runs once the reload under way ends', async () => {
  const port = await freePort();
  const dir = scratchDir('angel-reload-');
  const config = join(dir, 'angel.json');
  const write = (marker: string): void => writeFileSync(config, JSON.stringify({ listen: [`127.0.0.1:${port}`], ready: 'delay:300ms', program: 'sh', args: ['-c', `echo "config ${marker}"; exec sleep 1000`] }));
  write('a');
  const run = new AngelRun(['--config', config]);
  await run.line(/^config a$/);
  await run.event('ready');
  write('b');
  run.signal('SIGHUP');
  await run.line(/^config b$/);
  // generation 1 warms up (not ready for 300 ms): a second SIGHUP now must not vanish
  write('c');
  run.signal('SIGHUP');
  const third = await run.event('start', (event) => event.generation === 2, 15_000);
  assert.equal(third.revision, 2, 'generation 2 runs the second config read');
  assert.equal(await run.line(/^config c$/), 'config c');
  const starts = run.events.items.filter((event) => event.event === 'start').map((event) => event.revision);
  assert.deepEqual(starts, [0, 1, 2]);
  run.signal('SIGTERM');
  assert.equal(await run.status(), 143);
});

describe('two angels never touch each other\'s names', () => {
  test('two PID-1 angels sharing /run: each its own notify sockets; the second\'s exit leaves the first watched and spawning', async () => {
    const pinging = ['--ready', 'notify', '--watchdog', '400ms', '--', fixture('notifier'), 'send:READY=1', 'ping:50:100000'];
    const first = new AngelRun(pinging, { prefix: PID1 });
    await first.event('ready');
    const firstPid = await angelPid(first, true);
    const second = new AngelRun(['--ready', 'notify', '--restart', 'never', '--', fixture('notifier'), 'send:READY=1', 'exit:0'], { prefix: PID1 });
    assert.equal(await second.status(), 0);
    // the first's child goes on pinging its own socket: no watchdog miss; and its next generation gets a socket
    process.kill(firstPid, 'SIGHUP');
    await first.event('ready', (event) => event.generation === 1);
    assert.equal(first.seenSoFar('watchdog'), 0, 'never watchdog-killed');
    assert.equal(first.events.items.some((event) => event.event === 'spawn-error'), false);
    process.kill(firstPid, 'SIGTERM');
    assert.equal(await first.status(), 143);
  });

  test('a SIGKILLed angel\'s instance (its sockets) is removed by the next angel; a living one\'s is not', async () => {
    /** The instance directory of an angel, by its control socket as /proc shows it. */
    const instanceOf = (pid: number): string => dirname(controlSocketOf(pid).replace(`/proc/${pid}/root`, ''));
    const living = new AngelRun(['--', 'sleep', '1000']);
    await living.event('start');
    const killed = new AngelRun(['--', 'sleep', '1000']);
    await killed.event('start');
    const [livingDir, killedDir] = [instanceOf(living.process.pid as number), instanceOf(killed.process.pid as number)];
    killed.signal('SIGKILL');
    await new Promise((resolve) => (killed.process.exitCode !== null || killed.process.signalCode !== null ? resolve(null) : killed.process.once('exit', resolve)));
    assert.equal(existsSync(killedDir), true, 'what a killed angel leaves stays until another angel looks');
    const next = new AngelRun(['--restart', 'never', '--', 'true']);
    assert.equal(await next.status(), 0);
    assert.equal(existsSync(killedDir), false, 'the dead one\'s instance was swept');
    assert.equal(existsSync(join(livingDir, 'control.sock')), true, 'the living one\'s was not touched');
    living.signal('SIGTERM');
    assert.equal(await living.status(), 143);
  });
});
