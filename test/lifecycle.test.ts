// The lifecycle table and the restart policy, pure: every pair that matters, and a sweep of all pairs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, decideRestart, NO_HISTORY, STABLE_AFTER_MS, wantsRestart, type RestartRules } from '../src/backoff.js';
import { initialLifecycle, transition, type Lifecycle, type LifecycleEvent } from '../src/lifecycle.js';
import type { ExitReason, RestartPolicy, State } from '../src/types.js';

const rules: RestartRules = { policy: 'on-failure', maxRestarts: 3, windowMs: 60_000, maxDelayMs: 10_000 };
const at = (state: State, extra: Partial<Lifecycle> = {}): Lifecycle => ({ ...initialLifecycle(NO_HISTORY), state, ...extra });
const exited = (status: number, extra: Partial<Extract<LifecycleEvent, { type: 'exited' }>> = {}): LifecycleEvent =>
  ({ type: 'exited', status, cleanExit: status === 0, uptimeMs: 50, now: 1000, ...extra });

test('a clean start: idle -> starting (spawn) -> running', () => {
  const started = transition(at('idle'), { type: 'start' }, rules);
  assert.equal(started.next.state, 'starting');
  assert.deepEqual(started.effects, [{ type: 'spawn' }]);
  assert.equal(transition(started.next, { type: 'ready' }, rules).next.state, 'running');
});

test('on-failure: exit 0 ends angel with 0; a crash restarts at once, the next one after 100 ms', () => {
  const clean = transition(at('running'), exited(0), rules);
  assert.equal(clean.next.state, 'stopped');
  assert.equal(clean.exitReason, 'exit');
  assert.deepEqual(clean.effects, [{ type: 'finish', status: 0, cause: 'exit' }]);

  const first = transition(at('running'), exited(139), rules);
  assert.equal(first.exitReason, 'crash');
  assert.equal(first.next.state, 'starting');
  assert.deepEqual(first.effects, [{ type: 'spawn' }]);
  const second = transition({ ...first.next, state: 'running' }, exited(139, { now: 1100 }), rules);
  assert.equal(second.next.state, 'backoff');
  assert.deepEqual(second.effects, [{ type: 'schedule-restart', delayMs: 100 }]);
});

test('policies: never passes the status through; always restarts even after exit 0', () => {
  const never = transition(at('running'), exited(7), { ...rules, policy: 'never' });
  assert.deepEqual(never.effects, [{ type: 'finish', status: 7, cause: 'crash' }]);
  const always = transition(at('running'), exited(0), { ...rules, policy: 'always' });
  assert.deepEqual(always.effects, [{ type: 'spawn' }]);
});

test('overrun: stop with the stop signal, then the exit is an overrun and restarts', () => {
  const stopping = transition(at('running'), { type: 'overrun' }, rules);
  assert.equal(stopping.next.state, 'stopping');
  assert.deepEqual(stopping.effects, [{ type: 'stop', signal: 'stop-signal' }]);
  const after = transition(stopping.next, exited(143), rules);
  assert.equal(after.exitReason, 'overrun');
  assert.deepEqual(after.effects, [{ type: 'spawn' }]);
  assert.equal(after.next.history.times.length, 1, 'an overrun counts toward the crash-loop guard');
});

test('reload: stop, then start at once, not counted toward the crash-loop guard', () => {
  const stopping = transition(at('running'), { type: 'reload' }, rules);
  const after = transition(stopping.next, exited(0), rules);
  assert.equal(after.exitReason, 'reload');
  assert.deepEqual(after.effects, [{ type: 'spawn' }]);
  assert.deepEqual(after.next.history, NO_HISTORY);
});

test('shutdown: the same signal, the child\'s status; a second one kills; the deadline kills', () => {
  const stopping = transition(at('running'), { type: 'shutdown', signal: 'SIGINT', cause: 'SIGINT' }, rules);
  assert.deepEqual(stopping.effects, [{ type: 'stop', signal: 'SIGINT' }]);
  assert.deepEqual(transition(stopping.next, { type: 'shutdown', signal: 'SIGINT', cause: 'SIGINT' }, rules).effects, [{ type: 'kill' }]);
  assert.deepEqual(transition(stopping.next, { type: 'deadline' }, rules).effects, [{ type: 'kill' }]);
  const done = transition(stopping.next, exited(130), rules);
  assert.equal(done.next.state, 'stopped');
  assert.deepEqual(done.effects, [{ type: 'finish', status: 130, cause: 'SIGINT' }]);
  const duringReload = transition(at('stopping', { stopReason: 'reload' }), { type: 'shutdown', signal: 'SIGTERM', cause: 'SIGTERM' }, rules);
  assert.equal(duringReload.next.stopReason, 'shutdown');
  assert.deepEqual(duringReload.effects, [{ type: 'stop', signal: 'SIGTERM' }]);
  assert.deepEqual(transition(at('stopping', { stopReason: 'overrun' }), { type: 'hard-ceiling' }, rules).effects, [{ type: 'kill' }]);
});

test('backoff: elapsed or reload start at once; shutdown ends with the last status', () => {
  assert.deepEqual(transition(at('backoff'), { type: 'backoff-elapsed' }, rules).effects, [{ type: 'spawn' }]);
  assert.deepEqual(transition(at('backoff'), { type: 'reload' }, rules).effects, [{ type: 'cancel-restart' }, { type: 'spawn' }]);
  const shutdown = transition(at('backoff', { lastStatus: 3 }), { type: 'shutdown', signal: 'SIGTERM', cause: 'SIGTERM' }, rules);
  assert.equal(shutdown.next.state, 'stopped');
  assert.deepEqual(shutdown.effects, [{ type: 'cancel-restart' }, { type: 'finish', status: 3, cause: 'SIGTERM' }]);
});

test('a spawn failure ends angel with its status; a crash loop gives up with the child\'s status', () => {
  assert.deepEqual(transition(at('starting'), { type: 'spawn-failed', status: 127 }, rules).effects, [{ type: 'finish', status: 127, cause: 'spawn' }]);
  let life = at('running');
  for (let restart = 0; restart < 3; restart++) {
    life = { ...transition(life, exited(1, { now: 1000 + restart }), { ...rules, maxDelayMs: 0 }).next, state: 'running' };
  }
  const giveup = transition(life, exited(1, { now: 2000 }), rules);
  assert.equal(giveup.next.state, 'stopped');
  assert.deepEqual(giveup.effects, [{ type: 'giveup', restarts: 3, status: 1 }, { type: 'finish', status: 1, cause: 'giveup' }]);
});

test('with held sockets a reload or an overrun overlaps: the next generation first, then the old one retires', () => {
  const overlap = { ...rules, overlap: true };
  const reloading = transition(at('running'), { type: 'reload' }, overlap);
  assert.equal(reloading.next.state, 'reloading');
  assert.deepEqual(reloading.effects, [{ type: 'spawn-next' }]);
  assert.deepEqual(transition(reloading.next, { type: 'ready' }, overlap).effects, [{ type: 'promote', retire: 'reload' }]);
  const failed = transition(reloading.next, exited(1, { role: 'next' }), overlap);
  assert.equal(failed.next.state, 'running', 'the current generation keeps serving');
  assert.equal(failed.effects[0]?.type, 'warn');
  const overrun = transition(at('running'), { type: 'overrun' }, overlap);
  assert.deepEqual(transition(overrun.next, { type: 'ready' }, overlap).effects, [{ type: 'promote', retire: 'overrun' }]);
  const overrunFailed = transition(overrun.next, exited(1, { role: 'next' }), overlap);
  assert.equal(overrunFailed.next.state, 'stopping', 'an overrunning child is then stopped the plain way');
  const currentDied = transition(reloading.next, exited(139), overlap);
  assert.equal(currentDied.next.state, 'starting');
  assert.deepEqual(currentDied.effects, [{ type: 'promote', retire: null }]);
});

test('impossible pairs are named and change nothing; every pair yields a known state', () => {
  const impossible = transition(at('idle'), exited(0), rules);
  assert.equal(impossible.next.state, 'idle');
  assert.equal(impossible.effects[0]?.type, 'impossible');
  const states: State[] = ['idle', 'starting', 'running', 'reloading', 'stopping', 'backoff', 'stopped'];
  const events: LifecycleEvent[] = [
    { type: 'start' }, { type: 'ready' }, { type: 'spawn-failed', status: 127 }, exited(0), exited(1), exited(1, { role: 'next' }),
    { type: 'overrun' }, { type: 'hard-ceiling' }, { type: 'reload' }, { type: 'shutdown', signal: 'SIGTERM', cause: 'SIGTERM' },
    { type: 'deadline' }, { type: 'backoff-elapsed' },
  ];
  for (const overlap of [false, true]) {
    for (const state of states) {
      for (const event of events) {
        const result = transition(at(state, { stopReason: state === 'stopping' || state === 'reloading' ? 'reload' : null }), event, { ...rules, overlap });
        assert.ok(states.includes(result.next.state), `${state} x ${event.type}`);
      }
    }
  }
});

test('restart policy: wantsRestart, the delays and the window', () => {
  const table: Array<[RestartPolicy, ExitReason, boolean]> = [
    ['on-failure', 'exit', false], ['on-failure', 'crash', true], ['on-failure', 'overrun', true], ['on-failure', 'reload', true],
    ['on-failure', 'shutdown', false], ['always', 'exit', true], ['always', 'shutdown', false], ['never', 'crash', false],
    ['never', 'overrun', false], ['never', 'reload', true],
  ];
  for (const [policy, reason, expected] of table) assert.equal(wantsRestart(policy, reason), expected, `${policy} ${reason}`);
  assert.deepEqual([0, 1, 2, 3, 4, 8, 30].map((n) => backoffDelay(n, 10_000)), [0, 100, 200, 400, 800, 10_000, 10_000]);
  assert.deepEqual([0, 1, 5].map((n) => backoffDelay(n, 0)), [0, 0, 0]);

  const windowRules = { ...rules, maxRestarts: 2, windowMs: 1000 };
  const full = { times: [100, 200], consecutive: 2 };
  assert.deepEqual(decideRestart('crash', windowRules, full, 500, 10), { action: 'giveup', restarts: 2 });
  const pruned = decideRestart('crash', windowRules, full, 1150, 10);
  assert.equal(pruned.action, 'restart', 'the restart at 100 fell out of the window');
  const stable = decideRestart('crash', rules, { times: [], consecutive: 5 }, 0, STABLE_AFTER_MS);
  assert.deepEqual(stable, { action: 'restart', delayMs: 0, history: { times: [0], consecutive: 1 } });
  assert.deepEqual(decideRestart('reload', windowRules, full, 500, 10), { action: 'restart', delayMs: 0, history: full });
});
