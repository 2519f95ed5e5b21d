// The lifecycle table, pure: every (state x event) pair that matters, the sequences that matter, and a sweep
// of every pair for the invariants that hold everywhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_HISTORY, STABLE_AFTER_MS, type RestartHistory, type RestartRules } from '../src/backoff.js';
import {
  initialLifecycle, transition, type Effect, type Lifecycle, type LifecycleEvent, type StopReason, type Transition,
} from '../src/lifecycle.js';
import type { ExitReason, State } from '../src/types.js';
import { historyOf, plain, type PlainHistory } from './helpers/history.js';

const rules: RestartRules = { policy: 'on-failure', maxRestarts: 3, windowMs: 60_000, maxDelayMs: 10_000 };
const overlap: RestartRules = { ...rules, overlap: true };

/** A frozen lifecycle, so a transition that mutates its input fails loudly. */
const at = (state: State, extra: Partial<Lifecycle> = {}): Lifecycle => {
  const life = { ...initialLifecycle(NO_HISTORY), state, ...extra };
  Object.freeze(life.history.times);
  Object.freeze(life.history);
  return Object.freeze(life);
};
type Exited = Extract<LifecycleEvent, { type: 'exited' }>;
const exited = (status: number, extra: Partial<Exited> = {}): Exited =>
  ({ type: 'exited', status, cleanExit: status === 0, uptimeMs: 50, now: 1000, ...extra });
const shutdown = (signal: NodeJS.Signals = 'SIGTERM', cause: string = signal): LifecycleEvent => ({ type: 'shutdown', signal, cause });
const crashed = historyOf([900]);

interface Row {
  name: string;
  life: Lifecycle;
  event: LifecycleEvent;
  rules?: RestartRules;
  state: State;
  effects: Effect[];
  exitReason?: ExitReason;
  stopReason?: StopReason | null;
  history?: PlainHistory;
}

const table: Row[] = [
  // starting
  { name: 'idle/start', life: at('idle'), event: { type: 'start' }, state: 'starting', effects: [{ type: 'spawn' }] },
  { name: 'idle/shutdown', life: at('idle'), event: shutdown(), state: 'stopped', effects: [{ type: 'finish', status: 0, cause: 'SIGTERM' }] },
  { name: 'idle/reload', life: at('idle'), event: { type: 'reload' }, state: 'idle', effects: [] },
  { name: 'starting/ready', life: at('starting'), event: { type: 'ready' }, state: 'running', effects: [] },
  { name: 'running/ready (late)', life: at('running'), event: { type: 'ready' }, state: 'running', effects: [] },
  {
    name: 'starting/spawn-failed', life: at('starting'), event: { type: 'spawn-failed', status: 127 },
    state: 'stopped', effects: [{ type: 'finish', status: 127, cause: 'spawn' }],
  },
  {
    name: 'starting/exited before ready restarts at once', life: at('starting'), event: exited(1),
    state: 'starting', effects: [{ type: 'spawn' }], exitReason: 'crash', history: { times: [1000], consecutive: 1 },
  },

  // the child ends on its own
  {
    name: 'running/exited clean, on-failure', life: at('running'), event: exited(0),
    state: 'stopped', effects: [{ type: 'finish', status: 0, cause: 'exit' }], exitReason: 'exit',
  },
  {
    name: 'running/exited crash: the first restart is immediate', life: at('running'), event: exited(139),
    state: 'starting', effects: [{ type: 'spawn' }], exitReason: 'crash', history: { times: [1000], consecutive: 1 },
  },
  {
    name: 'running/exited crash again: backoff 100 ms', life: at('running', { history: crashed }), event: exited(1),
    state: 'backoff', effects: [{ type: 'schedule-restart', delayMs: 100 }], exitReason: 'crash', history: { times: [900, 1000], consecutive: 2 },
  },
  {
    name: 'running/exited crash after a stable run: immediate again', life: at('running', { history: historyOf([900], 6) }),
    event: exited(1, { uptimeMs: STABLE_AFTER_MS }),
    state: 'starting', effects: [{ type: 'spawn' }], exitReason: 'crash', history: { times: [900, 1000], consecutive: 1 },
  },
  {
    name: 'running/exited, never: the child\'s status', life: at('running'), event: exited(7), rules: { ...rules, policy: 'never' },
    state: 'stopped', effects: [{ type: 'finish', status: 7, cause: 'crash' }], exitReason: 'crash',
  },
  {
    name: 'running/exited by a signal, never: 128+n', life: at('running'), event: exited(137), rules: { ...rules, policy: 'never' },
    state: 'stopped', effects: [{ type: 'finish', status: 137, cause: 'crash' }], exitReason: 'crash',
  },
  {
    name: 'running/exited clean, always: restarts', life: at('running'), event: exited(0), rules: { ...rules, policy: 'always' },
    state: 'starting', effects: [{ type: 'spawn' }], exitReason: 'exit', history: { times: [1000], consecutive: 1 },
  },
  {
    name: 'running/exited with the window full: giveup', life: at('running', { history: historyOf([1, 2, 3]) }), event: exited(2),
    state: 'stopped', effects: [{ type: 'giveup', restarts: 3, status: 2 }, { type: 'finish', status: 2, cause: 'giveup' }], exitReason: 'crash',
  },

  // overrun
  {
    name: 'running/overrun', life: at('running'), event: { type: 'overrun' },
    state: 'stopping', effects: [{ type: 'stop', signal: 'stop-signal' }], stopReason: 'overrun',
  },
  {
    name: 'starting/overrun (a start-up spike past the cap)', life: at('starting'), event: { type: 'overrun' },
    state: 'stopping', effects: [{ type: 'stop', signal: 'stop-signal' }], stopReason: 'overrun',
  },
  {
    name: 'stopping(overrun)/exited: reason overrun, restart, counted', life: at('stopping', { stopReason: 'overrun' }), event: exited(143),
    state: 'starting', effects: [{ type: 'spawn' }], exitReason: 'overrun', stopReason: null, history: { times: [1000], consecutive: 1 },
  },
  {
    name: 'stopping(overrun)/exited, never: ends with the child\'s status', life: at('stopping', { stopReason: 'overrun' }), event: exited(143),
    rules: { ...rules, policy: 'never' }, state: 'stopped', effects: [{ type: 'finish', status: 143, cause: 'overrun' }], exitReason: 'overrun',
  },
  { name: 'stopping(overrun)/hard-ceiling', life: at('stopping', { stopReason: 'overrun' }), event: { type: 'hard-ceiling' }, state: 'stopping', effects: [{ type: 'kill' }] },
  { name: 'stopping(overrun)/overrun again', life: at('stopping', { stopReason: 'overrun' }), event: { type: 'overrun' }, state: 'stopping', effects: [] },

  // reload
  {
    name: 'running/reload', life: at('running'), event: { type: 'reload' },
    state: 'stopping', effects: [{ type: 'stop', signal: 'stop-signal' }], stopReason: 'reload',
  },
  {
    name: 'stopping(reload)/exited: spawn at once, history unchanged', life: at('stopping', { stopReason: 'reload', history: crashed }), event: exited(0),
    state: 'starting', effects: [{ type: 'spawn' }], exitReason: 'reload', stopReason: null, history: plain(crashed),
  },
  {
    name: 'stopping(reload)/exited, even a crash status, even with the window full',
    life: at('stopping', { stopReason: 'reload', history: historyOf([1, 2, 3]) }), event: exited(143),
    state: 'starting', effects: [{ type: 'spawn' }], exitReason: 'reload', history: { times: [1, 2, 3], consecutive: 3 },
  },
  {
    name: 'stopping(reload)/exited, never: still restarts', life: at('stopping', { stopReason: 'reload' }), event: exited(0), rules: { ...rules, policy: 'never' },
    state: 'starting', effects: [{ type: 'spawn' }], exitReason: 'reload',
  },
  { name: 'stopping(reload)/reload again', life: at('stopping', { stopReason: 'reload' }), event: { type: 'reload' }, state: 'stopping', effects: [], stopReason: 'reload' },

  // shutdown
  {
    name: 'running/shutdown(SIGINT): the same signal', life: at('running'), event: shutdown('SIGINT'),
    state: 'stopping', effects: [{ type: 'stop', signal: 'SIGINT' }], stopReason: 'shutdown',
  },
  {
    name: 'starting/shutdown', life: at('starting'), event: shutdown('SIGTERM'),
    state: 'stopping', effects: [{ type: 'stop', signal: 'SIGTERM' }], stopReason: 'shutdown',
  },
  {
    name: 'stopping(shutdown)/exited: the child\'s status and the cause',
    life: at('stopping', { stopReason: 'shutdown', shutdownCause: 'SIGINT' }), event: exited(130),
    state: 'stopped', effects: [{ type: 'finish', status: 130, cause: 'SIGINT' }], exitReason: 'shutdown',
  },
  {
    name: 'stopping(shutdown)/exited 0 under always: no restart',
    life: at('stopping', { stopReason: 'shutdown', shutdownCause: 'stop' }), event: exited(0), rules: { ...rules, policy: 'always' },
    state: 'stopped', effects: [{ type: 'finish', status: 0, cause: 'stop' }], exitReason: 'shutdown',
  },
  { name: 'stopping(shutdown)/shutdown again: kill', life: at('stopping', { stopReason: 'shutdown', shutdownCause: 'SIGINT' }), event: shutdown('SIGINT'), state: 'stopping', effects: [{ type: 'kill' }] },
  { name: 'stopping/deadline: kill', life: at('stopping', { stopReason: 'shutdown' }), event: { type: 'deadline' }, state: 'stopping', effects: [{ type: 'kill' }] },
  { name: 'stopping(reload)/deadline: kill', life: at('stopping', { stopReason: 'reload' }), event: { type: 'deadline' }, state: 'stopping', effects: [{ type: 'kill' }] },
  {
    name: 'stopping(reload)/shutdown: the shutdown\'s signal, the reason becomes shutdown', life: at('stopping', { stopReason: 'reload' }), event: shutdown('SIGTERM'),
    state: 'stopping', effects: [{ type: 'stop', signal: 'SIGTERM' }], stopReason: 'shutdown',
  },
  {
    name: 'stopping(overrun)/shutdown', life: at('stopping', { stopReason: 'overrun' }), event: shutdown('SIGINT'),
    state: 'stopping', effects: [{ type: 'stop', signal: 'SIGINT' }], stopReason: 'shutdown',
  },

  // backoff
  { name: 'backoff/backoff-elapsed', life: at('backoff', { history: crashed }), event: { type: 'backoff-elapsed' }, state: 'starting', effects: [{ type: 'spawn' }], history: plain(crashed) },
  { name: 'backoff/reload', life: at('backoff'), event: { type: 'reload' }, state: 'starting', effects: [{ type: 'cancel-restart' }, { type: 'spawn' }] },
  {
    name: 'backoff/shutdown: the last child\'s status', life: at('backoff', { lastStatus: 3 }), event: shutdown('SIGTERM'),
    state: 'stopped', effects: [{ type: 'cancel-restart' }, { type: 'finish', status: 3, cause: 'SIGTERM' }],
  },
  { name: 'backoff/deadline (late timer)', life: at('backoff'), event: { type: 'deadline' }, state: 'backoff', effects: [] },
  { name: 'backoff/overrun (late sample)', life: at('backoff'), event: { type: 'overrun' }, state: 'backoff', effects: [] },

  // spawn failures end angel with the spawn's status (127 not found, 126 not executable)
  {
    name: 'running/spawn-failed', life: at('running'), event: { type: 'spawn-failed', status: 126 },
    state: 'stopped', effects: [{ type: 'finish', status: 126, cause: 'spawn' }],
  },

  // stopped: late events change nothing
  { name: 'stopped/exited', life: at('stopped'), event: exited(1), state: 'stopped', effects: [] },
  { name: 'stopped/shutdown', life: at('stopped'), event: shutdown(), state: 'stopped', effects: [] },

  // with held sockets a reload or an overrun overlaps: the next generation first, then the old one retires
  { name: 'overlap: running/reload', life: at('running'), event: { type: 'reload' }, rules: overlap, state: 'reloading', effects: [{ type: 'spawn-next' }], stopReason: 'reload' },
  { name: 'overlap: running/overrun', life: at('running'), event: { type: 'overrun' }, rules: overlap, state: 'reloading', effects: [{ type: 'spawn-next' }], stopReason: 'overrun' },
  {
    name: 'overlap: starting/reload stops plainly (nothing serves yet)', life: at('starting'), event: { type: 'reload' }, rules: overlap,
    state: 'stopping', effects: [{ type: 'stop', signal: 'stop-signal' }], stopReason: 'reload',
  },
  {
    name: 'overlap: reloading(reload)/ready', life: at('reloading', { stopReason: 'reload' }), event: { type: 'ready' }, rules: overlap,
    state: 'running', effects: [{ type: 'promote', retire: 'reload' }], stopReason: null,
  },
  {
    name: 'overlap: reloading(overrun)/ready', life: at('reloading', { stopReason: 'overrun' }), event: { type: 'ready' }, rules: overlap,
    state: 'running', effects: [{ type: 'promote', retire: 'overrun' }], stopReason: null,
  },
  {
    name: 'overlap: reloading(overrun)/exited current (the ceiling killed it)', life: at('reloading', { stopReason: 'overrun' }), event: exited(137, { role: 'current' }), rules: overlap,
    state: 'starting', effects: [{ type: 'promote', retire: null }], exitReason: 'overrun', stopReason: null,
  },
  {
    name: 'overlap: reloading(reload)/exited current (it crashed meanwhile)', life: at('reloading', { stopReason: 'reload' }), event: exited(139, { role: 'current' }), rules: overlap,
    state: 'starting', effects: [{ type: 'promote', retire: null }], exitReason: 'crash', stopReason: null,
  },
  { name: 'overlap: reloading/reload again', life: at('reloading', { stopReason: 'reload' }), event: { type: 'reload' }, rules: overlap, state: 'reloading', effects: [] },
  { name: 'overlap: reloading/hard-ceiling', life: at('reloading', { stopReason: 'overrun' }), event: { type: 'hard-ceiling' }, rules: overlap, state: 'reloading', effects: [{ type: 'kill' }] },
  {
    name: 'overlap: reloading/shutdown', life: at('reloading', { stopReason: 'reload' }), event: shutdown('SIGINT'), rules: overlap,
    state: 'stopping', effects: [{ type: 'stop', signal: 'SIGINT' }], stopReason: 'shutdown',
  },

  // impossible pairs are named and change nothing
  ...([
    ['idle', exited(0)], ['idle', { type: 'deadline' }], ['idle', { type: 'ready' }], ['idle', { type: 'overrun' }],
    ['idle', { type: 'backoff-elapsed' }], ['idle', { type: 'spawn-failed', status: 127 }], ['idle', { type: 'hard-ceiling' }],
    ['starting', { type: 'start' }], ['running', { type: 'start' }], ['running', { type: 'deadline' }], ['running', { type: 'backoff-elapsed' }],
    ['stopping', { type: 'start' }], ['stopping', { type: 'backoff-elapsed' }], ['stopping', { type: 'spawn-failed', status: 127 }],
    ['backoff', exited(1)], ['backoff', { type: 'start' }], ['backoff', { type: 'ready' }], ['backoff', { type: 'spawn-failed', status: 127 }],
    ['reloading', { type: 'start' }], ['reloading', { type: 'deadline' }], ['reloading', { type: 'backoff-elapsed' }],
  ] satisfies Array<[State, LifecycleEvent]>).map(([state, event]): Row => ({
    name: `impossible: ${state}/${event.type}`,
    life: at(state, { stopReason: state === 'stopping' || state === 'reloading' ? 'reload' : null }),
    event,
    state,
    effects: [{ type: 'impossible', event: `${event.type} in ${state}` }],
  })),
];

test('the lifecycle table, pair by pair', async (t) => {
  for (const row of table) {
    await t.test(row.name, () => {
      const result = transition(row.life, row.event, row.rules ?? rules);
      assert.equal(result.next.state, row.state);
      assert.deepEqual(result.effects, row.effects);
      assert.equal(result.exitReason, row.exitReason);
      if (row.stopReason !== undefined) assert.equal(result.next.stopReason, row.stopReason);
      if (row.history !== undefined) assert.deepEqual(plain(result.next.history), row.history);
      if (row.effects.some((effect) => effect.type === 'impossible')) assert.equal(result.next, row.life, 'an impossible pair leaves the lifecycle as it was');
    });
  }
});

/** Runs events from a state, threading the lifecycle through; returns every transition. */
function run(from: Lifecycle, events: LifecycleEvent[], restartRules = rules): Transition[] {
  const steps: Transition[] = [];
  let life = from;
  for (const event of events) {
    const step = transition(life, event, restartRules);
    steps.push(step);
    life = step.next;
  }
  return steps;
}
const last = (steps: Transition[]): Transition => {
  const step = steps.at(-1);
  assert.ok(step);
  return step;
};

test('a start, a crash, an immediate restart, a second crash after 100 ms of backoff', () => {
  const steps = run(initialLifecycle(NO_HISTORY), [
    { type: 'start' }, { type: 'ready' }, exited(1, { now: 1000 }), { type: 'ready' }, exited(1, { now: 1010 }), { type: 'backoff-elapsed' }, { type: 'ready' },
  ]);
  assert.deepEqual(steps.map((step) => step.next.state), ['starting', 'running', 'starting', 'running', 'backoff', 'starting', 'running']);
  assert.deepEqual(steps.map((step) => step.effects), [
    [{ type: 'spawn' }], [], [{ type: 'spawn' }], [], [{ type: 'schedule-restart', delayMs: 100 }], [{ type: 'spawn' }], [],
  ]);
});

test('shutdown(SIGINT) from running: SIGINT, then the child\'s status with the cause SIGINT', () => {
  const steps = run(at('running'), [shutdown('SIGINT'), exited(130)]);
  assert.deepEqual(steps.map((step) => step.next.state), ['stopping', 'stopped']);
  assert.deepEqual(last(steps).effects, [{ type: 'finish', status: 130, cause: 'SIGINT' }]);
  assert.equal(last(steps).exitReason, 'shutdown');
});

test('a shutdown during a reload\'s stop ends angel instead of restarting', () => {
  const steps = run(at('running'), [{ type: 'reload' }, shutdown('SIGTERM'), exited(143)]);
  assert.deepEqual(steps.map((step) => step.next.state), ['stopping', 'stopping', 'stopped']);
  assert.equal(last(steps).exitReason, 'shutdown');
  assert.deepEqual(last(steps).effects, [{ type: 'finish', status: 143, cause: 'SIGTERM' }]);
});

test('overruns then an exit: each overrun counts toward the crash-loop guard', () => {
  const steps = run(at('running'), [{ type: 'overrun' }, exited(143, { now: 1 }), { type: 'ready' }, { type: 'overrun' }, exited(143, { now: 2 })]);
  assert.deepEqual(steps.map((step) => step.exitReason), [undefined, 'overrun', undefined, undefined, 'overrun']);
  assert.deepEqual(plain(last(steps).next.history), { times: [1, 2], consecutive: 2 });
  assert.deepEqual(last(steps).effects, [{ type: 'schedule-restart', delayMs: 100 }]);
});

test('reloads never count toward the crash-loop guard', () => {
  const events: LifecycleEvent[] = [];
  for (let reload = 0; reload < 20; reload++) events.push({ type: 'reload' }, exited(0, { now: reload }), { type: 'ready' });
  const steps = run(at('running'), events);
  assert.equal(last(steps).next.state, 'running');
  assert.equal(last(steps).next.history, NO_HISTORY);
  assert.ok(steps.every((step) => !step.effects.some((effect) => effect.type === 'giveup' || effect.type === 'schedule-restart')));
});

test('a crash loop gives up after maxRestarts restarts within the window, with the last status', async (t) => {
  for (const maxRestarts of [0, 1, 3, 10]) {
    await t.test(`maxRestarts ${maxRestarts}`, () => {
      const loopRules = { ...rules, maxRestarts };
      let life = transition(at('idle'), { type: 'start' }, loopRules).next;
      const delays: number[] = [];
      let restarts = 0;
      for (let now = 0; ; now += 10) {
        const step = transition(life, exited(now % 2 ? 1 : 139, { now }), loopRules);
        assert.equal(step.exitReason, 'crash');
        const [first] = step.effects;
        if (first?.type === 'giveup') {
          assert.equal(restarts, maxRestarts, 'gives up after exactly maxRestarts restarts');
          assert.deepEqual(step.effects, [
            { type: 'giveup', restarts: maxRestarts, status: now % 2 ? 1 : 139 },
            { type: 'finish', status: now % 2 ? 1 : 139, cause: 'giveup' },
          ]);
          assert.equal(step.next.state, 'stopped');
          break;
        }
        restarts++;
        if (first?.type === 'schedule-restart') {
          delays.push(first.delayMs);
          life = transition(step.next, { type: 'backoff-elapsed' }, loopRules).next;
        } else {
          assert.deepEqual(step.effects, [{ type: 'spawn' }]);
          delays.push(0);
          life = step.next;
        }
        assert.equal(life.state, 'starting');
      }
      assert.deepEqual(delays, [0, 100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000].slice(0, maxRestarts));
    });
  }
});

test('crashes spread wider than the window never give up', () => {
  const loopRules = { ...rules, maxRestarts: 2, windowMs: 1000, maxDelayMs: 0 };
  let life = at('running');
  for (let crash = 0; crash < 50; crash++) {
    const step = transition(life, exited(1, { now: crash * 600 }), loopRules);
    assert.deepEqual(step.effects, [{ type: 'spawn' }], `crash ${crash}`);
    life = step.next;
  }
  assert.ok(life.history.times.size <= 2);
});

test('with held sockets a failed successor leaves the current one serving; an overrunning one is stopped then', () => {
  const reloading = at('reloading', { stopReason: 'reload', lastStatus: 0 });
  const failed = transition(reloading, exited(1, { role: 'next' }), overlap);
  assert.equal(failed.next.state, 'running');
  assert.equal(failed.next.stopReason, null);
  assert.equal(failed.exitReason, 'crash');
  assert.equal(failed.effects.length, 1);
  assert.equal(failed.effects[0]?.type, 'warn');
  assert.match(failed.effects[0]?.type === 'warn' ? failed.effects[0].message : '', /status 1/);

  const overrunning = transition(at('reloading', { stopReason: 'overrun' }), exited(126, { role: 'next' }), overlap);
  assert.equal(overrunning.next.state, 'stopping');
  assert.equal(overrunning.next.stopReason, 'overrun');
  assert.deepEqual(overrunning.effects.map((effect) => effect.type), ['warn', 'stop']);
  assert.deepEqual(overrunning.effects[1], { type: 'stop', signal: 'stop-signal' });
});

// ---- the sweep: every state x every event, under every stop reason and both modes ----

const STATES: Record<State, true> = { idle: true, starting: true, running: true, reloading: true, stopping: true, backoff: true, stopped: true };
/** One entry per event type, so a new event type fails to compile here until the sweep covers it. */
const EVENTS: Record<LifecycleEvent['type'], LifecycleEvent[]> = {
  start: [{ type: 'start' }],
  ready: [{ type: 'ready' }],
  'spawn-failed': [{ type: 'spawn-failed', status: 127 }, { type: 'spawn-failed', status: 126 }],
  exited: [
    exited(0), exited(1), exited(137), exited(0, { role: 'current' }), exited(1, { role: 'next' }), exited(0, { role: 'next' }),
    exited(1, { uptimeMs: STABLE_AFTER_MS }),
  ],
  overrun: [{ type: 'overrun' }],
  'hard-ceiling': [{ type: 'hard-ceiling' }],
  reload: [{ type: 'reload' }],
  shutdown: [shutdown('SIGTERM'), shutdown('SIGINT'), shutdown('SIGTERM', 'stop')],
  deadline: [{ type: 'deadline' }],
  'backoff-elapsed': [{ type: 'backoff-elapsed' }],
};
const EFFECTS: ReadonlySet<Effect['type']> = new Set<Effect['type']>([
  'spawn', 'spawn-next', 'promote', 'warn', 'stop', 'kill', 'schedule-restart', 'cancel-restart', 'giveup', 'finish', 'impossible',
]);
const STOP_REASONS: Array<StopReason | null> = [null, 'overrun', 'reload', 'shutdown'];
const HISTORIES: RestartHistory[] = [NO_HISTORY, crashed, historyOf([990, 995, 999])];

function checkInvariants(from: Lifecycle, event: LifecycleEvent, result: Transition): void {
  const label = `${from.state}(${from.stopReason}) x ${JSON.stringify(event)}`;
  const types = result.effects.map((effect) => effect.type);
  assert.ok(Object.hasOwn(STATES, result.next.state), `${label}: state ${result.next.state}`);
  for (const type of types) assert.ok(EFFECTS.has(type), `${label}: effect ${type}`);
  if (types.includes('impossible')) {
    assert.deepEqual(types, ['impossible'], label);
    assert.equal(result.next, from, `${label}: an impossible pair changes nothing`);
  }
  // stopped is entered with exactly one finish, as the last effect, and only then
  const finishes = types.filter((type) => type === 'finish').length;
  const entersStopped = from.state !== 'stopped' && result.next.state === 'stopped';
  assert.equal(finishes, entersStopped ? 1 : 0, `${label}: finish iff entering stopped`);
  if (entersStopped) assert.equal(types.at(-1), 'finish', label);
  if (types.includes('giveup')) assert.deepEqual(types, ['giveup', 'finish'], label);
  // each effect that starts a wait or a child leaves the lifecycle in the state that expects its outcome
  if (types.includes('spawn')) assert.equal(result.next.state, 'starting', label);
  if (types.includes('spawn-next')) assert.equal(result.next.state, 'reloading', label);
  if (types.includes('schedule-restart')) assert.equal(result.next.state, 'backoff', label);
  if (types.includes('stop')) {
    assert.equal(result.next.state, 'stopping', label);
    assert.ok(result.next.stopReason !== null, `${label}: a stop says why`);
  }
  if (result.next.state === 'backoff' && from.state !== 'backoff') assert.ok(types.includes('schedule-restart'), label);
  if (result.next.state === 'stopping' && result.next.stopReason === 'shutdown') assert.ok(result.next.shutdownCause !== null, label);
  // a reload's end is never counted; a restart that is counted adds exactly one entry at `now`
  if (result.exitReason === 'reload') assert.equal(result.next.history, from.history, label);
  if (event.type === 'exited' && result.next.history !== from.history) assert.equal(plain(result.next.history).times.at(-1), event.now, label);
  if (result.exitReason !== undefined) assert.equal(event.type, 'exited', `${label}: only an exit has a reason`);
  if (event.type !== 'exited' && result.next.history !== from.history) assert.fail(`${label}: only an exit changes the history`);
  if (from.state === 'stopped') assert.deepEqual(result, { next: from, effects: [] }, `${label}: stopped is final`);
  // a restart is spawned only when the lifecycle was not already spawning or waiting to
  if (result.next.state === 'starting' && from.state !== 'starting' && from.state !== 'idle') {
    assert.ok(types.includes('spawn') || types.includes('promote') || from.state === 'reloading', label);
  }
}

test('the sweep: every state x every event returns a valid state, never throws, and keeps the invariants', () => {
  let pairs = 0;
  for (const restartRules of [rules, overlap, { ...rules, policy: 'always' as const }, { ...rules, policy: 'never' as const }, { ...rules, maxRestarts: 0 }]) {
    for (const state of Object.keys(STATES) as State[]) {
      for (const stopReason of STOP_REASONS) {
        for (const history of HISTORIES) {
          const shutdownCause = stopReason === 'shutdown' ? 'SIGTERM' : null;
          const from = at(state, { stopReason, shutdownCause, history, lastStatus: 5 });
          for (const events of Object.values(EVENTS)) {
            for (const event of events) {
              let result: Transition | undefined;
              assert.doesNotThrow(() => { result = transition(from, event, restartRules); }, `${state}(${stopReason}) x ${event.type}`);
              assert.ok(result);
              checkInvariants(from, event, result);
              pairs++;
            }
          }
        }
      }
    }
  }
  assert.ok(pairs > 1000, `${pairs} pairs`);
});

test('the sweep names every impossible pair, the same in both modes', () => {
  const impossible = new Set<string>();
  for (const restartRules of [rules, overlap]) {
    for (const state of Object.keys(STATES) as State[]) {
      for (const [type, events] of Object.entries(EVENTS)) {
        const [event] = events;
        assert.ok(event);
        const from = at(state, { stopReason: state === 'stopping' || state === 'reloading' ? 'reload' : null });
        if (transition(from, event, restartRules).effects.some((effect) => effect.type === 'impossible')) impossible.add(`${state}/${type}`);
      }
    }
  }
  assert.deepEqual([...impossible].sort(), [
    'backoff/exited', 'backoff/ready', 'backoff/spawn-failed', 'backoff/start',
    'idle/backoff-elapsed', 'idle/deadline', 'idle/exited', 'idle/hard-ceiling', 'idle/overrun', 'idle/ready', 'idle/spawn-failed',
    'reloading/backoff-elapsed', 'reloading/deadline', 'reloading/spawn-failed', 'reloading/start',
    'running/backoff-elapsed', 'running/deadline', 'running/start',
    'starting/backoff-elapsed', 'starting/deadline', 'starting/start',
    'stopping/backoff-elapsed', 'stopping/spawn-failed', 'stopping/start',
  ]);
});
