// The lifecycle grid, pure: every (state x event) pair that matters, with the generations it names, the
// sequences that matter, and a sweep of every pair for the invariants that hold everywhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_HISTORY, type RestartRules } from '../../src/core/backoff.js';
import {
  initialLifecycle, transition, watchOf, type Effect, type Lifecycle, type LifecycleEvent, type StopReason, type Transition,
} from '../../src/core/lifecycle.js';
import type { ExitReason, State } from '../../src/core/types.js';
import { historyOf, plain, type PlainHistory } from '../helpers/history.js';

/** --min-uptime's default. */
const MIN_UPTIME = 1000;
const rules: RestartRules = { policy: 'on-failure', maxRestarts: 3, windowMs: 60_000, maxDelayMs: 10_000, minUptimeMs: MIN_UPTIME, restartDelayMs: 0, stopSignalNumber: 15 };
const overlap: RestartRules = { ...rules, overlap: true };

/** The generations each state has in the rows below: generation 0 serves (or starts, or is being stopped),
 * generation 1 warms up beside it when reloading. */
const GENERATIONS: Record<State, Partial<Lifecycle>> = {
  idle: { current: null, spawned: 0 },
  starting: { current: 0, spawned: 1 },
  running: { current: 0, spawned: 1 },
  reloading: { current: 0, next: 1, spawned: 2 },
  stopping: { current: 0, spawned: 1 },
  backoff: { current: null, spawned: 1 },
  stopped: { current: null, spawned: 1 },
};

/** A frozen lifecycle, so a transition that mutates its input fails loudly. */
const at = (state: State, extra: Partial<Lifecycle> = {}): Lifecycle => {
  const life = { ...initialLifecycle(NO_HISTORY), state, ...GENERATIONS[state], ...extra };
  Object.freeze(life.retiring);
  return Object.freeze(life);
};
type Exited = Extract<LifecycleEvent, { type: 'exited' }>;
const exited = (status: number, extra: Partial<Exited> = {}): Exited =>
  ({ type: 'exited', generation: 0, status, cleanExit: status === 0, uptimeMs: 50, now: 1000, ...extra });
const ready = (generation = 0): LifecycleEvent => ({ type: 'ready', generation });
const overrun = (generation = 0): LifecycleEvent => ({ type: 'overrun', generation });
const ceiling = (generation = 0): LifecycleEvent => ({ type: 'hard-ceiling', generation });
const oomKill = (generation = 0): LifecycleEvent => ({ type: 'oom-kill', generation });
const deadline = (generation = 0): LifecycleEvent => ({ type: 'deadline', generation });
const notReady = (generation = 0): LifecycleEvent => ({ type: 'ready-timeout', generation, afterMs: 400 });
const hung = (generation = 0): LifecycleEvent => ({ type: 'watchdog', generation });
const spawnFailed = (status: number, generation = 0): LifecycleEvent => ({ type: 'spawn-failed', generation, status });
const shutdown = (signal: NodeJS.Signals = 'SIGTERM', cause: string = signal): LifecycleEvent => ({ type: 'shutdown', signal, cause });
/** A spawn of `generation` for `reason` (null: the first). */
const spawn = (generation: number, reason: ExitReason | null, role: 'current' | 'next' = 'current'): Effect => ({ type: 'spawn', generation, role, reason });
const stop = (generation: number, signal: NodeJS.Signals | 'stop-signal' = 'stop-signal'): Effect => ({ type: 'stop', generation, signal });
const kill = (generation = 0): Effect => ({ type: 'kill', generation });
const crashed = historyOf([900]);

interface Row {
  name: string;
  life: Lifecycle;
  event: LifecycleEvent;
  rules?: RestartRules;
  state: State;
  effects: Effect[];
  exit?: { generation: number; reason: ExitReason };
  stopReason?: StopReason | null;
  history?: PlainHistory;
  /** current, next and retiring afterwards, when the row is about them */
  generations?: Pick<Lifecycle, 'current' | 'next' | 'retiring'>;
}

const crash = (generation = 0): Row['exit'] => ({ generation, reason: 'crash' });

const table: Row[] = [
  // starting
  { name: 'idle/start', life: at('idle'), event: { type: 'start' }, state: 'starting', effects: [spawn(0, null)], generations: { current: 0, next: null, retiring: {} } },
  { name: 'idle/shutdown', life: at('idle'), event: shutdown(), state: 'stopped', effects: [{ type: 'finish', status: 0, cause: 'SIGTERM' }] },
  { name: 'idle/reload', life: at('idle'), event: { type: 'reload' }, state: 'idle', effects: [] },
  { name: 'starting/ready', life: at('starting'), event: ready(), state: 'running', effects: [] },
  { name: 'running/ready (late)', life: at('running'), event: ready(), state: 'running', effects: [] },
  { name: 'starting/spawn-failed', life: at('starting'), event: spawnFailed(127), state: 'stopped', effects: [{ type: 'finish', status: 127, cause: 'spawn' }] },
  {
    name: 'starting/exited before ready restarts at once', life: at('starting'), event: exited(1),
    state: 'starting', effects: [spawn(1, 'crash')], exit: crash(), history: { times: [1000], consecutive: 1 }, generations: { current: 1, next: null, retiring: {} },
  },
  { name: 'starting/ready-timeout: warned and killed', life: at('starting'), event: notReady(), state: 'starting', effects: [{ type: 'warn', message: 'generation 0 not ready within 400 ms; killing it' }, kill()] },

  // the child ends on its own
  { name: 'running/exited clean, on-failure', life: at('running'), event: exited(0), state: 'stopped', effects: [{ type: 'finish', status: 0, cause: 'exit' }], exit: { generation: 0, reason: 'exit' } },
  {
    name: 'running/exited crash: the first restart is immediate', life: at('running'), event: exited(139),
    state: 'starting', effects: [spawn(1, 'crash')], exit: crash(), history: { times: [1000], consecutive: 1 },
  },
  {
    name: 'running/exited crash again: backoff 100 ms', life: at('running', { history: crashed }), event: exited(1),
    state: 'backoff', effects: [{ type: 'schedule-restart', delayMs: 100 }], exit: crash(), history: { times: [900, 1000], consecutive: 2 },
    generations: { current: null, next: null, retiring: {} },
  },
  {
    name: 'running/exited crash after serving --min-uptime: immediate again, not counted', life: at('running', { history: historyOf([900], 6) }),
    event: exited(1, { uptimeMs: MIN_UPTIME }), state: 'starting', effects: [spawn(1, 'crash')], exit: crash(), history: { times: [900], consecutive: 0 },
  },
  {
    name: 'running/exited, never: the child\'s status', life: at('running'), event: exited(7), rules: { ...rules, policy: 'never' },
    state: 'stopped', effects: [{ type: 'finish', status: 7, cause: 'crash' }], exit: crash(),
  },
  {
    name: 'running/exited by a signal, never: 128+n', life: at('running'), event: exited(137), rules: { ...rules, policy: 'never' },
    state: 'stopped', effects: [{ type: 'finish', status: 137, cause: 'crash' }], exit: crash(),
  },
  {
    name: 'running/exited clean, always: restarts', life: at('running'), event: exited(0), rules: { ...rules, policy: 'always' },
    state: 'starting', effects: [spawn(1, 'exit')], exit: { generation: 0, reason: 'exit' }, history: { times: [1000], consecutive: 1 },
  },
  {
    name: 'running/exited with the window full: giveup', life: at('running', { history: historyOf([1, 2, 3]) }), event: exited(2),
    state: 'stopped', effects: [{ type: 'giveup', restarts: 3, status: 2 }, { type: 'finish', status: 2, cause: 'giveup' }], exit: crash(),
  },

  // overrun
  { name: 'running/overrun', life: at('running'), event: overrun(), state: 'stopping', effects: [stop(0)], stopReason: 'overrun' },
  { name: 'starting/overrun (a start-up spike past the cap)', life: at('starting'), event: overrun(), state: 'stopping', effects: [stop(0)], stopReason: 'overrun' },
  {
    name: 'stopping(overrun)/exited: reason overrun, restart, counted', life: at('stopping', { stopReason: 'overrun' }), event: exited(143),
    state: 'starting', effects: [spawn(1, 'overrun')], exit: { generation: 0, reason: 'overrun' }, stopReason: null, history: { times: [1000], consecutive: 1 },
  },
  {
    name: 'stopping(overrun)/exited, never: ends with the child\'s status', life: at('stopping', { stopReason: 'overrun' }), event: exited(143),
    rules: { ...rules, policy: 'never' }, state: 'stopped', effects: [{ type: 'finish', status: 143, cause: 'overrun' }], exit: { generation: 0, reason: 'overrun' },
  },
  { name: 'stopping(overrun)/hard-ceiling', life: at('stopping', { stopReason: 'overrun' }), event: ceiling(), state: 'stopping', effects: [kill()] },
  { name: 'stopping(overrun)/overrun again', life: at('stopping', { stopReason: 'overrun' }), event: overrun(), state: 'stopping', effects: [] },

  // the kernel's OOM killer (--cgroup): the rest of the generation is killed, its end is reported as oom and restarts as an overrun does
  { name: 'running/oom-kill: the rest of the cgroup is killed', life: at('running'), event: oomKill(), state: 'running', effects: [kill()] },
  { name: 'stopping(overrun)/oom-kill (past the kernel\'s 1.5x ceiling)', life: at('stopping', { stopReason: 'overrun' }), event: oomKill(), state: 'stopping', effects: [kill()] },
  {
    name: 'running/exited, OOM-killed: reason oom, restart, counted', life: at('running'), event: exited(137, { oomKilled: true }),
    state: 'starting', effects: [spawn(1, 'oom')], exit: { generation: 0, reason: 'oom' }, history: { times: [1000], consecutive: 1 },
  },
  {
    name: 'stopping(overrun)/exited, OOM-killed in its grace period: reason oom', life: at('stopping', { stopReason: 'overrun' }), event: exited(137, { oomKilled: true }),
    state: 'starting', effects: [spawn(1, 'oom')], exit: { generation: 0, reason: 'oom' }, stopReason: null, history: { times: [1000], consecutive: 1 },
  },
  {
    name: 'stopping(shutdown)/exited, OOM-killed: the shutdown still ends it', life: at('stopping', { stopReason: 'shutdown', shutdownCause: 'SIGTERM' }), event: exited(137, { oomKilled: true }),
    state: 'stopped', effects: [{ type: 'finish', status: 137, cause: 'SIGTERM' }], exit: { generation: 0, reason: 'shutdown' },
  },
  {
    name: 'running/exited clean but OOM-killed (a grandchild was the victim): reason oom', life: at('running'), event: exited(0, { oomKilled: true }),
    state: 'starting', effects: [spawn(1, 'oom')], exit: { generation: 0, reason: 'oom' }, history: { times: [1000], consecutive: 1 },
  },
  // a missed watchdog: a hang, stopped the plain way (even with held sockets) and restarted as after a crash
  { name: 'running/watchdog', life: at('running'), event: hung(), state: 'stopping', effects: [stop(0)], stopReason: 'watchdog' },
  { name: 'starting/watchdog (hung before it was ready)', life: at('starting'), event: hung(), state: 'stopping', effects: [stop(0)], stopReason: 'watchdog' },
  { name: 'overlap: running/watchdog stops plainly (a hung child is not overlapped)', life: at('running'), event: hung(), rules: overlap, state: 'stopping', effects: [stop(0)], stopReason: 'watchdog' },
  {
    name: 'stopping(watchdog)/exited: reason watchdog, restart, counted', life: at('stopping', { stopReason: 'watchdog' }), event: exited(143),
    state: 'starting', effects: [spawn(1, 'watchdog')], exit: { generation: 0, reason: 'watchdog' }, stopReason: null, history: { times: [1000], consecutive: 1 },
  },
  {
    name: 'stopping(watchdog)/exited, never: ends with the child\'s status', life: at('stopping', { stopReason: 'watchdog' }), event: exited(137),
    rules: { ...rules, policy: 'never' }, state: 'stopped', effects: [{ type: 'finish', status: 137, cause: 'watchdog' }], exit: { generation: 0, reason: 'watchdog' },
  },
  {
    name: 'stopping(watchdog)/exited with the window full: giveup', life: at('stopping', { stopReason: 'watchdog', history: historyOf([1, 2, 3]) }), event: exited(143),
    state: 'stopped', effects: [{ type: 'giveup', restarts: 3, status: 143 }, { type: 'finish', status: 143, cause: 'giveup' }], exit: { generation: 0, reason: 'watchdog' },
  },
  { name: 'stopping(watchdog)/deadline: kill', life: at('stopping', { stopReason: 'watchdog' }), event: deadline(), state: 'stopping', effects: [kill()] },
  { name: 'stopping(shutdown)/watchdog: already being stopped', life: at('stopping', { stopReason: 'shutdown', shutdownCause: 'SIGTERM' }), event: hung(), state: 'stopping', effects: [], stopReason: 'shutdown' },
  { name: 'stopping(watchdog)/shutdown: the reason becomes shutdown', life: at('stopping', { stopReason: 'watchdog' }), event: shutdown('SIGINT'), state: 'stopping', effects: [stop(0, 'SIGINT')], stopReason: 'shutdown' },
  { name: 'backoff/watchdog of the gone generation (late timer)', life: at('backoff'), event: hung(), state: 'backoff', effects: [] },

  // reload
  { name: 'running/reload', life: at('running'), event: { type: 'reload' }, state: 'stopping', effects: [stop(0)], stopReason: 'reload' },
  {
    name: 'stopping(reload)/exited: spawn at once, history unchanged', life: at('stopping', { stopReason: 'reload', history: crashed }), event: exited(0),
    state: 'starting', effects: [spawn(1, 'reload')], exit: { generation: 0, reason: 'reload' }, stopReason: null, history: plain(crashed),
  },
  {
    name: 'stopping(reload)/exited, even a crash status, even with the window full',
    life: at('stopping', { stopReason: 'reload', history: historyOf([1, 2, 3]) }), event: exited(143),
    state: 'starting', effects: [spawn(1, 'reload')], exit: { generation: 0, reason: 'reload' }, history: { times: [1, 2, 3], consecutive: 3 },
  },
  {
    name: 'stopping(reload)/exited, never: still restarts', life: at('stopping', { stopReason: 'reload' }), event: exited(0), rules: { ...rules, policy: 'never' },
    state: 'starting', effects: [spawn(1, 'reload')], exit: { generation: 0, reason: 'reload' },
  },
  { name: 'stopping(reload)/reload again', life: at('stopping', { stopReason: 'reload' }), event: { type: 'reload' }, state: 'stopping', effects: [], stopReason: 'reload' },

  // shutdown
  { name: 'running/shutdown(SIGINT): the same signal', life: at('running'), event: shutdown('SIGINT'), state: 'stopping', effects: [stop(0, 'SIGINT')], stopReason: 'shutdown' },
  { name: 'starting/shutdown', life: at('starting'), event: shutdown('SIGTERM'), state: 'stopping', effects: [stop(0, 'SIGTERM')], stopReason: 'shutdown' },
  {
    name: 'stopping(shutdown)/exited: the child\'s status and the cause', life: at('stopping', { stopReason: 'shutdown', shutdownCause: 'SIGINT' }), event: exited(130),
    state: 'stopped', effects: [{ type: 'finish', status: 130, cause: 'SIGINT' }], exit: { generation: 0, reason: 'shutdown' },
  },
  {
    name: 'stopping(shutdown)/exited 0 under always: no restart', life: at('stopping', { stopReason: 'shutdown', shutdownCause: 'stop' }), event: exited(0),
    rules: { ...rules, policy: 'always' }, state: 'stopped', effects: [{ type: 'finish', status: 0, cause: 'stop' }], exit: { generation: 0, reason: 'shutdown' },
  },
  { name: 'stopping(shutdown)/shutdown again: kill', life: at('stopping', { stopReason: 'shutdown', shutdownCause: 'SIGINT' }), event: shutdown('SIGINT'), state: 'stopping', effects: [kill()] },
  { name: 'stopping/deadline: kill', life: at('stopping', { stopReason: 'shutdown' }), event: deadline(), state: 'stopping', effects: [kill()] },
  { name: 'stopping(reload)/deadline: kill', life: at('stopping', { stopReason: 'reload' }), event: deadline(), state: 'stopping', effects: [kill()] },
  {
    name: 'stopping(reload)/shutdown: the shutdown\'s signal, the reason becomes shutdown', life: at('stopping', { stopReason: 'reload' }), event: shutdown('SIGTERM'),
    state: 'stopping', effects: [stop(0, 'SIGTERM')], stopReason: 'shutdown',
  },
  { name: 'stopping(overrun)/shutdown', life: at('stopping', { stopReason: 'overrun' }), event: shutdown('SIGINT'), state: 'stopping', effects: [stop(0, 'SIGINT')], stopReason: 'shutdown' },

  // backoff: generation 0 is gone, the next one will be 1
  { name: 'backoff/backoff-elapsed', life: at('backoff', { history: crashed, restartFor: 'crash' }), event: { type: 'backoff-elapsed' }, state: 'starting', effects: [spawn(1, 'crash')], history: plain(crashed) },
  { name: 'backoff/reload', life: at('backoff'), event: { type: 'reload' }, state: 'starting', effects: [{ type: 'cancel-restart' }, spawn(1, 'reload')] },
  {
    name: 'backoff/shutdown: the last child\'s status', life: at('backoff', { lastStatus: 3 }), event: shutdown('SIGTERM'),
    state: 'stopped', effects: [{ type: 'cancel-restart' }, { type: 'finish', status: 3, cause: 'SIGTERM' }],
  },
  { name: 'backoff/deadline of the gone generation (late timer)', life: at('backoff'), event: deadline(), state: 'backoff', effects: [] },
  { name: 'backoff/overrun of the gone generation (late sample)', life: at('backoff'), event: overrun(), state: 'backoff', effects: [] },
  { name: 'running/deadline of a generation long gone', life: at('running', { current: 3, spawned: 4 }), event: deadline(1), state: 'running', effects: [] },

  // stopped: late events change nothing
  { name: 'stopped/exited', life: at('stopped'), event: exited(1), state: 'stopped', effects: [] },
  { name: 'stopped/shutdown', life: at('stopped'), event: shutdown(), state: 'stopped', effects: [] },

  // with held sockets a reload or an overrun overlaps: the next generation first, then the old one retires
  { name: 'overlap: running/reload', life: at('running'), event: { type: 'reload' }, rules: overlap, state: 'reloading', effects: [spawn(1, 'reload', 'next')], stopReason: 'reload', generations: { current: 0, next: 1, retiring: {} } },
  { name: 'overlap: running/overrun', life: at('running'), event: overrun(), rules: overlap, state: 'reloading', effects: [spawn(1, 'overrun', 'next')], stopReason: 'overrun' },
  { name: 'overlap: starting/reload stops plainly (nothing serves yet)', life: at('starting'), event: { type: 'reload' }, rules: overlap, state: 'stopping', effects: [stop(0)], stopReason: 'reload' },
  {
    name: 'overlap: reloading(reload)/ready of the next: it takes over, the old one retires', life: at('reloading', { stopReason: 'reload' }), event: ready(1), rules: overlap,
    state: 'running', effects: [stop(0)], stopReason: null, generations: { current: 1, next: null, retiring: { 0: 'reload' } },
  },
  {
    name: 'overlap: reloading(overrun)/ready: the old one retires for its overrun', life: at('reloading', { stopReason: 'overrun' }), event: ready(1), rules: overlap,
    state: 'running', effects: [stop(0)], stopReason: null, generations: { current: 1, next: null, retiring: { 0: 'overrun' } },
  },
  { name: 'overlap: reloading/ready of the current one (late) changes nothing', life: at('reloading', { stopReason: 'reload' }), event: ready(0), rules: overlap, state: 'reloading', effects: [] },
  {
    name: 'overlap: reloading(overrun)/exited current (the ceiling killed it)', life: at('reloading', { stopReason: 'overrun' }), event: exited(137), rules: overlap,
    state: 'starting', effects: [], exit: { generation: 0, reason: 'overrun' }, stopReason: null, generations: { current: 1, next: null, retiring: {} },
  },
  {
    name: 'overlap: reloading(reload)/exited current (it crashed meanwhile)', life: at('reloading', { stopReason: 'reload' }), event: exited(139), rules: overlap,
    state: 'starting', effects: [], exit: crash(), stopReason: null, generations: { current: 1, next: null, retiring: {} },
  },
  {
    name: 'overlap: reloading/exited next: the current one keeps serving', life: at('reloading', { stopReason: 'reload' }), event: exited(1, { generation: 1 }), rules: overlap,
    state: 'running', effects: [{ type: 'warn', message: 'the next generation failed to start (status 1); the current one keeps serving' }], exit: crash(1),
    stopReason: null, generations: { current: 0, next: null, retiring: {} },
  },
  {
    name: 'overlap: reloading/spawn-failed of the next (127): the real status, its number given back', life: at('reloading', { stopReason: 'reload' }), event: spawnFailed(127, 1),
    rules: overlap, state: 'running', effects: [{ type: 'warn', message: 'the next generation failed to start (status 127); the current one keeps serving' }],
    stopReason: null, generations: { current: 0, next: null, retiring: {} },
  },
  {
    name: 'overlap: reloading(overrun)/spawn-failed of the next: the overrunning one is stopped plainly', life: at('reloading', { stopReason: 'overrun' }), event: spawnFailed(126, 1),
    rules: overlap, state: 'stopping', effects: [{ type: 'warn', message: 'the next generation failed to start (status 126); the current one keeps serving' }, stop(0)], stopReason: 'overrun',
  },
  {
    name: 'overlap: reloading/reload: not lost, it is pending', life: at('reloading', { stopReason: 'reload' }), event: { type: 'reload' }, rules: overlap,
    state: 'reloading', effects: [], generations: { current: 0, next: 1, retiring: {} },
  },
  {
    name: 'overlap: reloading(reload pending)/ready of the next: it takes over, and the pending reload starts the one after',
    life: at('reloading', { stopReason: 'reload', reloadPending: true }), event: ready(1), rules: overlap,
    state: 'reloading', effects: [stop(0), spawn(2, 'reload', 'next')], stopReason: 'reload', generations: { current: 1, next: 2, retiring: { 0: 'reload' } },
  },
  {
    name: 'overlap: reloading(reload pending)/exited next: the current one serves, and the pending reload starts another next',
    life: at('reloading', { stopReason: 'reload', reloadPending: true }), event: exited(1, { generation: 1 }), rules: overlap,
    state: 'reloading', effects: [{ type: 'warn', message: 'the next generation failed to start (status 1); the current one keeps serving' }, spawn(2, 'reload', 'next')],
    exit: crash(1), stopReason: 'reload', generations: { current: 0, next: 2, retiring: {} },
  },
  { name: 'overlap: reloading/ready-timeout of the next: it is killed', life: at('reloading', { stopReason: 'reload' }), event: notReady(1), rules: overlap, state: 'reloading', effects: [{ type: 'warn', message: 'generation 1 not ready within 400 ms; killing it' }, kill(1)] },
  {
    name: 'overlap: reloading/watchdog of the next: it is stopped, the current one keeps serving', life: at('reloading', { stopReason: 'reload' }), event: hung(1), rules: overlap,
    state: 'running', effects: [stop(1), { type: 'warn', message: 'the next generation missed its watchdog; the current one keeps serving' }],
    stopReason: null, generations: { current: 0, next: null, retiring: { 1: 'watchdog' } },
  },
  {
    name: 'overlap: reloading(overrun)/watchdog of the next: both stopped, the overrunning one plainly', life: at('reloading', { stopReason: 'overrun' }), event: hung(1), rules: overlap,
    state: 'stopping', effects: [stop(1), { type: 'warn', message: 'the next generation missed its watchdog; the current one keeps serving' }, stop(0)],
    stopReason: 'overrun', generations: { current: 0, next: null, retiring: { 1: 'watchdog' } },
  },
  {
    name: 'overlap: reloading/watchdog of the current: it is stopped, its successor is the one starting', life: at('reloading', { stopReason: 'reload' }), event: hung(0), rules: overlap,
    state: 'starting', effects: [stop(0)], stopReason: null, generations: { current: 1, next: null, retiring: { 0: 'watchdog' } },
  },
  {
    name: 'retiring(watchdog): its exit is reported as watchdog', life: at('running', { current: 1, spawned: 2, retiring: { 0: 'watchdog' } }), event: exited(137),
    state: 'running', effects: [], exit: { generation: 0, reason: 'watchdog' }, generations: { current: 1, next: null, retiring: {} },
  },
  { name: 'retiring: its watchdog changes nothing', life: at('running', { current: 1, spawned: 2, retiring: { 0: 'reload' } }), event: hung(), state: 'running', effects: [] },
  { name: 'overlap: reloading/reload again', life: at('reloading', { stopReason: 'reload' }), event: { type: 'reload' }, rules: overlap, state: 'reloading', effects: [] },
  { name: 'overlap: reloading/hard-ceiling', life: at('reloading', { stopReason: 'overrun' }), event: ceiling(), rules: overlap, state: 'reloading', effects: [kill()] },
  {
    name: 'overlap: reloading/shutdown: the successor is abandoned, both get the signal', life: at('reloading', { stopReason: 'reload' }), event: shutdown('SIGINT'), rules: overlap,
    state: 'stopping', effects: [stop(1, 'SIGINT'), stop(0, 'SIGINT')], stopReason: 'shutdown', generations: { current: 0, next: null, retiring: { 1: 'shutdown' } },
  },

  // a retiring generation's own events
  {
    name: 'retiring: its exit is reported with its reason and changes no state', life: at('running', { current: 1, spawned: 2, retiring: { 0: 'reload' } }), event: exited(143),
    state: 'running', effects: [], exit: { generation: 0, reason: 'reload' }, generations: { current: 1, next: null, retiring: {} },
  },
  { name: 'retiring: its deadline kills it', life: at('running', { current: 1, spawned: 2, retiring: { 0: 'overrun' } }), event: deadline(), state: 'running', effects: [kill()] },
  { name: 'retiring: past the hard ceiling it is killed', life: at('running', { current: 1, spawned: 2, retiring: { 0: 'overrun' } }), event: ceiling(), state: 'running', effects: [kill()] },
  { name: 'retiring: an OOM kill in it kills the rest', life: at('running', { current: 1, spawned: 2, retiring: { 0: 'reload' } }), event: oomKill(), state: 'running', effects: [kill()] },
  {
    name: 'retiring(overrun): its OOM-killed exit is reported as oom', life: at('running', { current: 1, spawned: 2, retiring: { 0: 'overrun' } }), event: exited(137, { oomKilled: true }),
    state: 'running', effects: [], exit: { generation: 0, reason: 'oom' }, generations: { current: 1, next: null, retiring: {} },
  },
  {
    name: 'retiring(reload): its OOM-killed exit keeps the reason reload', life: at('running', { current: 1, spawned: 2, retiring: { 0: 'reload' } }), event: exited(137, { oomKilled: true }),
    state: 'running', effects: [], exit: { generation: 0, reason: 'reload' }, generations: { current: 1, next: null, retiring: {} },
  },
  { name: 'retiring: its overrun changes nothing', life: at('running', { current: 1, spawned: 2, retiring: { 0: 'overrun' } }), event: overrun(), state: 'running', effects: [] },

  // impossible pairs are named and change nothing
  ...([
    ['idle', exited(0)], ['idle', deadline()], ['idle', ready()], ['idle', overrun()], ['idle', { type: 'backoff-elapsed' }], ['idle', spawnFailed(127)],
    ['idle', ceiling()], ['idle', notReady()], ['idle', hung()],
    ['starting', { type: 'start' }], ['running', { type: 'start' }], ['running', deadline()], ['running', { type: 'backoff-elapsed' }], ['running', spawnFailed(126)],
    ['stopping', { type: 'start' }], ['stopping', { type: 'backoff-elapsed' }],
    ['backoff', exited(1)], ['backoff', { type: 'start' }], ['backoff', spawnFailed(127)],
    ['reloading', { type: 'start' }], ['reloading', deadline()], ['reloading', { type: 'backoff-elapsed' }], ['reloading', spawnFailed(127)],
  ] satisfies Array<[State, LifecycleEvent]>).map(([state, event]): Row => ({
    name: `impossible: ${state}/${event.type}`,
    life: at(state, { stopReason: state === 'stopping' || state === 'reloading' ? 'reload' : null }),
    event,
    state,
    effects: [{ type: 'impossible', event: `${event.type} in ${state}` }],
  })),
];

test('the lifecycle grid, pair by pair', async (t) => {
  for (const row of table) {
    await t.test(row.name, () => {
      const result = transition(row.life, row.event, row.rules ?? rules);
      assert.equal(result.next.state, row.state);
      assert.deepEqual(result.effects, row.effects);
      assert.deepEqual(result.exit, row.exit);
      if (row.stopReason !== undefined) assert.equal(result.next.stopReason, row.stopReason);
      if (row.history !== undefined) assert.deepEqual(plain(result.next.history), row.history);
      if (row.generations) {
        const { current, next, retiring } = result.next;
        assert.deepEqual({ current, next, retiring }, row.generations);
      }
      if (row.effects.some((effect) => effect.type === 'impossible')) assert.equal(result.next, row.life, 'an impossible pair leaves the lifecycle as it was');
    });
  }
});

/** Runs events from a state, threading the lifecycle through; returns every transition. */
function run(from: Lifecycle, events: Array<LifecycleEvent | ((life: Lifecycle) => LifecycleEvent)>, restartRules = rules): Transition[] {
  const steps: Transition[] = [];
  let life = from;
  for (const make of events) {
    const step = transition(life, typeof make === 'function' ? make(life) : make, restartRules);
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
/** An event about whichever generation is current when it arrives. */
const ofCurrent = (make: (generation: number) => LifecycleEvent) => (life: Lifecycle): LifecycleEvent => make(life.current ?? -1);

test('a start, a crash, an immediate restart, a second crash after 100 ms of backoff; generations 0, 1, 2', () => {
  const steps = run(initialLifecycle(NO_HISTORY), [
    { type: 'start' }, ready(0), exited(1, { generation: 0, now: 1000 }), ready(1), exited(1, { generation: 1, now: 1010 }), { type: 'backoff-elapsed' }, ready(2),
  ]);
  assert.deepEqual(steps.map((step) => step.next.state), ['starting', 'running', 'starting', 'running', 'backoff', 'starting', 'running']);
  assert.deepEqual(steps.map((step) => step.effects), [[spawn(0, null)], [], [spawn(1, 'crash')], [], [{ type: 'schedule-restart', delayMs: 100 }], [spawn(2, 'crash')], []]);
  assert.equal(last(steps).next.current, 2);
});

test('shutdown(SIGINT) from running: SIGINT, then the child\'s status with the cause SIGINT', () => {
  const steps = run(at('running'), [shutdown('SIGINT'), exited(130)]);
  assert.deepEqual(steps.map((step) => step.next.state), ['stopping', 'stopped']);
  assert.deepEqual(last(steps).effects, [{ type: 'finish', status: 130, cause: 'SIGINT' }]);
  assert.deepEqual(last(steps).exit, { generation: 0, reason: 'shutdown' });
});

test('a shutdown during a reload\'s stop ends angel instead of restarting', () => {
  const steps = run(at('running'), [{ type: 'reload' }, shutdown('SIGTERM'), exited(143)]);
  assert.deepEqual(steps.map((step) => step.next.state), ['stopping', 'stopping', 'stopped']);
  assert.deepEqual(last(steps).exit, { generation: 0, reason: 'shutdown' });
  assert.deepEqual(last(steps).effects, [{ type: 'finish', status: 143, cause: 'SIGTERM' }]);
});

test('overruns then an exit: each overrun counts toward the crash-loop guard', () => {
  const steps = run(at('running'), [overrun(0), exited(143, { generation: 0, now: 1 }), ready(1), overrun(1), exited(143, { generation: 1, now: 2 })]);
  assert.deepEqual(steps.map((step) => step.exit?.reason), [undefined, 'overrun', undefined, undefined, 'overrun']);
  assert.deepEqual(plain(last(steps).next.history), { times: [1, 2], consecutive: 2 });
  assert.deepEqual(last(steps).effects, [{ type: 'schedule-restart', delayMs: 100 }]);
});

test('watchdog misses then exits: each is reported as watchdog and counts toward the crash-loop guard', () => {
  const steps = run(at('running'), [hung(0), exited(143, { generation: 0, now: 1 }), ready(1), hung(1), deadline(1), exited(137, { generation: 1, now: 2 })]);
  assert.deepEqual(steps.map((step) => step.next.state), ['stopping', 'starting', 'running', 'stopping', 'stopping', 'backoff']);
  assert.deepEqual(steps.map((step) => step.exit?.reason), [undefined, 'watchdog', undefined, undefined, undefined, 'watchdog']);
  assert.deepEqual(steps[4]?.effects, [kill(1)], 'past the grace, SIGKILL');
  assert.deepEqual(plain(last(steps).next.history), { times: [1, 2], consecutive: 2 });
  assert.deepEqual(last(steps).effects, [{ type: 'schedule-restart', delayMs: 100 }]);
});

test('reloads never count toward the crash-loop guard', () => {
  const events: Array<(life: Lifecycle) => LifecycleEvent> = [];
  for (let reload = 0; reload < 20; reload++) {
    events.push(() => ({ type: 'reload' }), ofCurrent((generation) => exited(0, { generation, now: reload })), ofCurrent(ready));
  }
  const steps = run(at('running'), events);
  assert.equal(last(steps).next.state, 'running');
  assert.equal(last(steps).next.current, 20);
  assert.deepEqual(plain(last(steps).next.history), plain(NO_HISTORY));
  assert.ok(steps.every((step) => !step.effects.some((effect) => effect.type === 'giveup' || effect.type === 'schedule-restart')));
});

test('overlapping reloads: each ready successor retires its predecessor, whose exit is reported as a reload', () => {
  const steps = run(at('running'), [
    { type: 'reload' }, ready(1), exited(143, { generation: 0 }), { type: 'reload' }, ready(2), exited(143, { generation: 1 }),
  ], overlap);
  assert.deepEqual(steps.map((step) => step.next.state), ['reloading', 'running', 'running', 'reloading', 'running', 'running']);
  assert.deepEqual(steps.map((step) => step.effects), [[spawn(1, 'reload', 'next')], [stop(0)], [], [spawn(2, 'reload', 'next')], [stop(1)], []]);
  assert.deepEqual(steps.map((step) => step.exit), [undefined, undefined, { generation: 0, reason: 'reload' }, undefined, undefined, { generation: 1, reason: 'reload' }]);
  assert.deepEqual(last(steps).next.retiring, {});
});

test('a crash loop gives up after maxRestarts restarts within the window, with the last status', async (t) => {
  for (const maxRestarts of [0, 1, 3, 10]) {
    await t.test(`maxRestarts ${maxRestarts}`, () => {
      const loopRules = { ...rules, maxRestarts };
      let life = transition(at('idle'), { type: 'start' }, loopRules).next;
      const delays: number[] = [];
      let restarts = 0;
      for (let now = 0; ; now += 10) {
        const step = transition(life, exited(now % 2 ? 1 : 139, { generation: life.current ?? -1, now }), loopRules);
        assert.equal(step.exit?.reason, 'crash');
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
          assert.deepEqual(step.effects, [spawn(restarts, 'crash')]);
          delays.push(0);
          life = step.next;
        }
        assert.equal(life.state, 'starting');
        assert.equal(life.current, restarts, 'each restart is the next generation');
      }
      assert.deepEqual(delays, [0, 100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000].slice(0, maxRestarts));
    });
  }
});

test('crashes spread wider than the window never give up', () => {
  const loopRules = { ...rules, maxRestarts: 2, windowMs: 1000, maxDelayMs: 0 };
  let life = at('running');
  for (let crash = 0; crash < 50; crash++) {
    const step = transition(life, exited(1, { generation: life.current ?? -1, now: crash * 600 }), loopRules);
    assert.deepEqual(step.effects, [spawn(crash + 1, 'crash')], `crash ${crash}`);
    life = step.next;
  }
  assert.ok(plain(life.history).times.length <= 2);
});

test('watchOf: how the overrun judge reads a generation\'s samples', () => {
  assert.equal(watchOf(at('running'), 0), 'watched');
  assert.equal(watchOf(at('starting'), 0), 'watched');
  assert.equal(watchOf(at('stopping', { stopReason: 'overrun' }), 0), 'stopping-for-overrun');
  assert.equal(watchOf(at('reloading', { stopReason: 'overrun' }), 0), 'stopping-for-overrun');
  assert.equal(watchOf(at('reloading', { stopReason: 'overrun' }), 1), 'not-judged', 'a successor warming up is not judged yet');
  assert.equal(watchOf(at('stopping', { stopReason: 'reload' }), 0), 'not-judged');
  assert.equal(watchOf(at('stopping', { stopReason: 'shutdown' }), 0), 'not-judged');
  assert.equal(watchOf(at('running', { current: 1, spawned: 2, retiring: { 0: 'overrun' } }), 0), 'stopping-for-overrun');
  assert.equal(watchOf(at('running', { current: 1, spawned: 2, retiring: { 0: 'reload' } }), 0), 'not-judged');
  assert.equal(watchOf(at('backoff'), 0), 'not-judged');
});

// ---- the sweep: every state x every event, about every generation, under every stop reason and mode ----

const STATES: Record<State, true> = { idle: true, starting: true, running: true, reloading: true, stopping: true, backoff: true, stopped: true };
/** One entry per event type, so a new event type fails to compile here until the sweep covers it. Generation 0
 * is the current one where there is one, 1 the next, 5 one never spawned. */
const EVENTS: Record<LifecycleEvent['type'], LifecycleEvent[]> = {
  start: [{ type: 'start' }],
  ready: [ready(0), ready(1), ready(5)],
  'spawn-failed': [spawnFailed(127), spawnFailed(126, 1)],
  exited: [exited(0), exited(1), exited(137), exited(137, { oomKilled: true }), exited(0, { generation: 1, oomKilled: true }), exited(1, { generation: 1 }), exited(0, { generation: 1 }), exited(1, { uptimeMs: MIN_UPTIME }), exited(1, { generation: 5 })],
  overrun: [overrun(0), overrun(1)],
  'hard-ceiling': [ceiling(0), ceiling(1)],
  'oom-kill': [oomKill(0), oomKill(1)],
  'ready-timeout': [notReady(0), notReady(1)],
  watchdog: [hung(0), hung(1)],
  reload: [{ type: 'reload' }],
  shutdown: [shutdown('SIGTERM'), shutdown('SIGINT'), shutdown('SIGTERM', 'stop')],
  deadline: [deadline(0), deadline(1)],
  'backoff-elapsed': [{ type: 'backoff-elapsed' }],
};
const EFFECTS: ReadonlySet<Effect['type']> = new Set<Effect['type']>(['spawn', 'stop', 'kill', 'warn', 'schedule-restart', 'cancel-restart', 'giveup', 'finish', 'impossible']);
const STOP_REASONS: Array<StopReason | null> = [null, 'overrun', 'watchdog', 'reload', 'shutdown'];
const HISTORIES = [NO_HISTORY, crashed, historyOf([990, 995, 999])];

function checkInvariants(from: Lifecycle, event: LifecycleEvent, result: Transition): void {
  const label = `${from.state}(${from.stopReason}) x ${JSON.stringify(event)}`;
  const types = result.effects.map((effect) => effect.type);
  const { next } = result;
  assert.ok(Object.hasOwn(STATES, next.state), `${label}: state ${next.state}`);
  for (const type of types) assert.ok(EFFECTS.has(type), `${label}: effect ${type}`);
  if (types.includes('impossible')) {
    assert.deepEqual(types, ['impossible'], label);
    assert.equal(next, from, `${label}: an impossible pair changes nothing`);
  }
  // stopped is entered with exactly one finish, as the last effect, and only then
  const finishes = types.filter((type) => type === 'finish').length;
  const entersStopped = from.state !== 'stopped' && next.state === 'stopped';
  assert.equal(finishes, entersStopped ? 1 : 0, `${label}: finish iff entering stopped`);
  if (entersStopped) assert.equal(types.at(-1), 'finish', label);
  if (types.includes('giveup')) assert.deepEqual(types, ['giveup', 'finish'], label);
  // every spawn is of the next number, into the role the lifecycle now names it in
  for (const effect of result.effects) {
    if (effect.type === 'spawn') {
      assert.equal(effect.generation, from.spawned, `${label}: spawns number ${from.spawned}`);
      assert.equal(effect.role === 'current' ? next.current : next.next, effect.generation, label);
      assert.equal(next.state, effect.role === 'current' ? 'starting' : 'reloading', label);
    }
    // stop and kill act on a generation angel still has
    if (effect.type === 'stop' || effect.type === 'kill') {
      const known = [from.current, from.next, ...Object.keys(from.retiring).map(Number)];
      assert.ok(known.includes(effect.generation), `${label}: ${effect.type} of an unknown generation ${effect.generation}`);
    }
  }
  if (types.includes('schedule-restart')) assert.equal(next.state, 'backoff', label);
  if (next.state === 'backoff' && from.state !== 'backoff') assert.ok(types.includes('schedule-restart'), label);
  if (next.state === 'stopping') assert.ok(next.stopReason !== null, `${label}: a stop says why`);
  if (next.state === 'stopping' && next.stopReason === 'shutdown') assert.ok(next.shutdownCause !== null, label);
  // the generations: a current one while starting, running, reloading or stopping; a next one only while reloading
  if (['starting', 'running', 'reloading', 'stopping'].includes(next.state) && !types.includes('impossible')) assert.notEqual(next.current, null, `${label}: a current generation`);
  if (next.state !== 'reloading') assert.equal(next.next, null, `${label}: a next generation only while reloading`);
  if (next.current !== null) assert.equal(Object.hasOwn(next.retiring, next.current), false, `${label}: the current one is not retiring`);
  // an exit is reported once, for the generation that exited, and only for an exit
  if (result.exit) {
    assert.equal(event.type, 'exited', `${label}: only an exit has a reason`);
    assert.equal(result.exit.generation, (event as { generation: number }).generation, label);
  }
  if (result.exit?.reason === 'reload') assert.deepEqual(plain(next.history), plain(from.history), label);
  if (event.type !== 'exited' && next.history !== from.history) assert.fail(`${label}: only an exit changes the history`);
  if (from.state === 'stopped') assert.deepEqual(result, { next: from, effects: [] }, `${label}: stopped is final`);
}

test('the sweep: every state x every event returns a valid state, never throws, and keeps the invariants', () => {
  let pairs = 0;
  for (const restartRules of [rules, overlap, { ...rules, policy: 'always' as const }, { ...rules, policy: 'never' as const }, { ...rules, maxRestarts: 0 }]) {
    for (const state of Object.keys(STATES) as State[]) {
      for (const stopReason of STOP_REASONS) {
        // a stopping or reloading lifecycle always knows why
        if ((state === 'stopping' || state === 'reloading') && stopReason === null) continue;
        for (const history of HISTORIES) {
          for (const retiring of [{}, { 7: 'reload' }] as Array<Lifecycle['retiring']>) {
            const shutdownCause = stopReason === 'shutdown' ? 'SIGTERM' : null;
            const from = at(state, { stopReason, shutdownCause, history, lastStatus: 5, retiring, spawned: Math.max(8, GENERATIONS[state].spawned ?? 0) });
            for (const events of Object.values(EVENTS)) {
              for (const event of [...events, ...(Object.keys(retiring).length > 0 ? [exited(1, { generation: 7 }), deadline(7)] : [])]) {
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
  }
  assert.ok(pairs > 3000, `${pairs} pairs`);
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
    'backoff/exited', 'backoff/spawn-failed', 'backoff/start',
    'idle/backoff-elapsed', 'idle/deadline', 'idle/exited', 'idle/hard-ceiling', 'idle/oom-kill', 'idle/overrun', 'idle/ready', 'idle/ready-timeout', 'idle/spawn-failed', 'idle/watchdog',
    'reloading/backoff-elapsed', 'reloading/deadline', 'reloading/spawn-failed', 'reloading/start',
    'running/backoff-elapsed', 'running/deadline', 'running/spawn-failed', 'running/start',
    'starting/backoff-elapsed', 'starting/deadline', 'starting/start',
    'stopping/backoff-elapsed', 'stopping/start',
  ]);
});
