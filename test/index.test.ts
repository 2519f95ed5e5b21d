// The typed library API, as a tool that offers its own --max-mem would use it.
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { test } from 'node:test';
import { supervise as superviseNow, UsageError, type Angel, type ExitEvent, type Options, type OverrunEvent, type RestartEvent, type StartEvent } from '../src/index.js';
import { atTestEnd } from './helpers/cleanup.js';
import { fixture } from './helpers/events.js';

/** supervise(), ended with the test should the test fail before it stops it: its child SIGKILLed, angel done. */
function supervise(options: Options): Angel {
  const angel = superviseNow(options);
  atTestEnd(async () => {
    if (angel.state === 'stopped') return;
    angel.shutdown('SIGKILL');
    await angel.done;
  });
  return angel;
}

test('supervise() reports overrun, exit and restart as typed events; stop() ends it with the child\'s status', async () => {
  const angel = supervise({ program: fixture('leaker'), args: ['4', '5'], maxMem: '32M', killTimeout: 2000 });
  const starts: StartEvent[] = [];
  const overruns: OverrunEvent[] = [];
  const exits: ExitEvent[] = [];
  angel.on('start', (event) => starts.push(event));
  angel.on('overrun', (event) => overruns.push(event));
  angel.on('exit', (event) => exits.push(event));
  const restart = await new Promise<RestartEvent>((resolve) => angel.once('restart', resolve));
  assert.equal(restart.generation, 1);
  assert.equal(overruns[0]?.capBytes, 32 * 2 ** 20);
  assert.equal(exits[0]?.reason, 'overrun');
  assert.equal(exits[0]?.signal, 'SIGTERM');
  assert.equal(angel.pid, starts[1]?.pid);
  angel.stop();
  assert.equal(await angel.done, 143);
  assert.equal(angel.state, 'stopped');
  assert.equal(angel.pid, undefined);
});

test('supervise() throws a UsageError naming the option for bad input', () => {
  assert.throws(() => supervise({ program: 'true', maxMem: 'lots' }), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.equal(error.flag, '--max-mem');
    assert.equal(error.value, 'lots');
    return true;
  });
});

test('reload() stops the old generation and starts the next', async () => {
  const angel = supervise({ program: 'sleep', args: ['100'] });
  const exits: ExitEvent[] = [];
  angel.on('exit', (event) => exits.push(event));
  await new Promise((resolve) => angel.once('ready', resolve));
  angel.reload();
  const start = await new Promise<StartEvent>((resolve) => angel.once('start', resolve));
  assert.equal(start.generation, 1);
  assert.equal(angel.generation, 1);
  assert.equal(exits[0]?.reason, 'reload');
  assert.equal(exits[0]?.generation, 0);
  angel.stop();
  assert.equal(await angel.done, 143, 'sleep dies of the stop signal, SIGTERM');
  assert.equal(exits[1]?.reason, 'shutdown');
});

test('a restart says why: a crash, then an overlapping reload while the crashed one\'s exit is the last seen', async () => {
  const angel = supervise({
    program: 'sh', args: ['-c', '[ "$ANGEL_GENERATION" = 0 ] && exit 3; exec sleep 100'], listen: ['127.0.0.1:0'], restartDelay: 0,
  });
  const restarts: RestartEvent[] = [];
  angel.on('restart', (event) => restarts.push(event));
  await new Promise<void>((resolve) => angel.on('ready', (event) => { if (event.generation === 1) resolve(); }));
  const second = new Promise<void>((resolve) => angel.on('restart', (event) => { if (event.generation === 2) resolve(); }));
  angel.reload();
  await second;
  assert.deepEqual(restarts.map((event) => [event.generation, event.reason]), [[1, 'crash'], [2, 'reload']]);
  angel.stop();
  assert.equal(await angel.done, 143);
});

test('every exit status 0-255 is what done resolves to, and a death by signal n is 128+n', async () => {
  const failures: string[] = [];
  const check = async (script: string, expected: number): Promise<void> => {
    const status = await supervise({ program: 'sh', args: ['-c', script], restart: 'never' }).done;
    if (status !== expected) failures.push(`${script} -> ${status}, not ${expected}`);
  };
  const codes = Array.from({ length: 256 }, (_, code) => code);
  for (let next = 0; next < codes.length;) await Promise.all(codes.slice(next, next += 32).map((code) => check(`exit ${code}`, code)));
  for (const signal of ['HUP', 'INT', 'KILL', 'SEGV', 'TERM', 'USR2'] as const) await check(`kill -${signal} $$`, 128 + constants.signals[`SIG${signal}`]);
  assert.deepEqual(failures, []);
});
