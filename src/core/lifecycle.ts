// Pure: the child's whole lifecycle on one page. Requests (reload, shutdown) and facts (ready, exited,
// overrun, deadline, …) go in; the next state and the effects for the driver to run come out. The lifecycle
// owns the generations, as lighttpd2's angel keeps an instance's current and desired state and its
// `replace` link: which one is current (serving or starting), which is next (warming up beside it during an
// overlapping reload), and which are retiring (replaced, being stopped; their end changes no state). Every
// event about a child names its generation, and every effect names the generation it acts on.
import { decideRestart, giveupStatus, type RestartHistory, type RestartRules } from './backoff.js';
import type { Watch } from './overrun.js';
import type { ExitReason, State } from './types.js';

export type StopReason = 'overrun' | 'watchdog' | 'reload' | 'shutdown';
type Role = 'current' | 'next';

export type LifecycleEvent =
  | { type: 'start' }
  | { type: 'ready'; generation: number }
  | { type: 'spawn-failed'; generation: number; status: number }
  /** `oomKilled`: the kernel's OOM killer killed a process of the generation's cgroup during its life. */
  /** uptimeMs from exec; servedMs from readiness (0 if never ready; uptimeMs when not given) */
  | { type: 'exited'; generation: number; status: number; cleanExit: boolean; uptimeMs: number; servedMs?: number; now: number; oomKilled?: boolean }
  | { type: 'overrun'; generation: number }
  | { type: 'hard-ceiling'; generation: number }
  /** The kernel's OOM killer killed a process of the generation's cgroup; the rest of it goes too. */
  | { type: 'oom-kill'; generation: number }
  /** It missed its watchdog period (or sent WATCHDOG=trigger): it hangs. */
  | { type: 'watchdog'; generation: number }
  | { type: 'ready-timeout'; generation: number; afterMs: number }
  | { type: 'reload' }
  | { type: 'shutdown'; signal: NodeJS.Signals; cause: string }
  | { type: 'deadline'; generation: number }
  | { type: 'backoff-elapsed' };
type EventType = LifecycleEvent['type'];
type EventOf<T extends EventType> = Extract<LifecycleEvent, { type: T }>;

export type Effect =
  /** `reason`: why it starts, the reason its predecessor ended or is replaced (null for the first). */
  | { type: 'spawn'; generation: number; role: Role; reason: ExitReason | null }
  /** The stop signal (or the shutdown's), SIGCONT, and a deadline after the kill timeout. */
  | { type: 'stop'; generation: number; signal: NodeJS.Signals | 'stop-signal' }
  | { type: 'kill'; generation: number }
  | { type: 'warn'; message: string }
  | { type: 'schedule-restart'; delayMs: number }
  | { type: 'cancel-restart' }
  | { type: 'giveup'; restarts: number; status: number }
  | { type: 'finish'; status: number; cause: string }
  | { type: 'impossible'; event: string };

export interface Lifecycle {
  readonly state: State;
  /** Why the current child is being stopped ('stopping') or replaced ('reloading'). */
  readonly stopReason: StopReason | null;
  /** What asked for the shutdown (signal name or 'stop'), once one was asked for. */
  readonly shutdownCause: string | null;
  /** The last child's status, for a shutdown that comes between two children. */
  readonly lastStatus: number;
  readonly history: RestartHistory;
  /** The generation that serves or is starting; null between two. */
  readonly current: number | null;
  /** The generation warming up beside the current one during an overlapping reload. */
  readonly next: number | null;
  /** Generations replaced or abandoned and being stopped, with the reason their end is reported with. */
  readonly retiring: Readonly<Record<number, ExitReason>>;
  /** How many generations were spawned: the number the next one gets. */
  readonly spawned: number;
  /** A reload asked for while one was under way: it runs once that one ends, with the launch in force then. */
  readonly reloadPending: boolean;
  /** In backoff: the reason the restart waited for is due to (the last child's ending). */
  readonly restartFor: ExitReason | null;
}

export interface Transition {
  next: Lifecycle;
  effects: Effect[];
  /** For an 'exited' event: how that generation's ending is reported. */
  exit?: { generation: number; reason: ExitReason };
  /** For a 'ready' event: the readiness counts and is reported (not that of a generation replaced or gone);
   * `overlapped`: a successor that came up beside the one it replaces, with no gap to measure. */
  ready?: { generation: number; overlapped: boolean };
}

export function initialLifecycle(history: RestartHistory): Lifecycle {
  return { state: 'idle', stopReason: null, shutdownCause: null, lastStatus: 0, history, current: null, next: null, retiring: {}, spawned: 0, reloadPending: false, restartFor: null };
}

/** How the overrun judge (overrun.ts) is to read a sample of this generation. */
export function watchOf(life: Lifecycle, generation: number): Watch {
  if (life.retiring[generation] === 'overrun') return 'stopping-for-overrun';
  if (generation !== life.current) return 'not-judged';
  if (life.state === 'starting' || life.state === 'running') return 'watched';
  return life.stopReason === 'overrun' ? 'stopping-for-overrun' : 'not-judged';
}

// ---- the cells' actions, each one line of the table below ----

type Action<T extends EventType> = (life: Lifecycle, event: EventOf<T>, rules: RestartRules) => Transition;

/** `life` with `changes` made, written out field by field: V8 (Node 20) makes an object spread in its runtime,
 * 0.5-0.8 us for a lifecycle's eleven fields, and a crash's restart made four before its spawn. No field of a
 * lifecycle is ever undefined (an absent value is null), so undefined in `changes` is a field not changed. */
function changed(life: Lifecycle, changes: Partial<Lifecycle>): Lifecycle {
  return {
    state: changes.state === undefined ? life.state : changes.state,
    stopReason: changes.stopReason === undefined ? life.stopReason : changes.stopReason,
    shutdownCause: changes.shutdownCause === undefined ? life.shutdownCause : changes.shutdownCause,
    lastStatus: changes.lastStatus === undefined ? life.lastStatus : changes.lastStatus,
    history: changes.history === undefined ? life.history : changes.history,
    current: changes.current === undefined ? life.current : changes.current,
    next: changes.next === undefined ? life.next : changes.next,
    retiring: changes.retiring === undefined ? life.retiring : changes.retiring,
    spawned: changes.spawned === undefined ? life.spawned : changes.spawned,
    reloadPending: changes.reloadPending === undefined ? life.reloadPending : changes.reloadPending,
    restartFor: changes.restartFor === undefined ? life.restartFor : changes.restartFor,
  };
}

const unchanged = (life: Lifecycle): Transition => ({ next: life, effects: [] });
const impossible = (life: Lifecycle, event: LifecycleEvent): Transition => ({
  next: life,
  effects: [{ type: 'impossible', event: `${event.type} in ${life.state}` }],
});
const without = (retiring: Lifecycle['retiring'], generation: number): Lifecycle['retiring'] =>
  Object.fromEntries(Object.entries(retiring).filter(([key]) => Number(key) !== generation));

/** Spawns the next generation in `role`, for `reason`; a new current one means the lifecycle is starting. */
function spawn(life: Lifecycle, role: Role, reason: ExitReason | null, effects: Effect[] = []): Transition {
  const generation = life.spawned;
  const next: Lifecycle = role === 'current'
    ? changed(life, { state: 'starting', current: generation, spawned: generation + 1, restartFor: null })
    : changed(life, { state: 'reloading', next: generation, spawned: generation + 1 });
  return { next, effects: [...effects, { type: 'spawn', generation, role, reason }] };
}

const startFirst: Action<'start'> = (life) => spawn(life, 'current', null);
const finishIdle: Action<'shutdown'> = (life, event) => ({ next: changed(life, { state: 'stopped' }), effects: [{ type: 'finish', status: 0, cause: event.cause }] });
const becomeRunning: Action<'ready'> = (life, event) => (event.generation === life.current ? { next: changed(life, { state: 'running' }), effects: [] } : unchanged(life));
const endOnSpawnFailure: Action<'spawn-failed'> = (life, event) => ({
  next: changed(life, { state: 'stopped', current: null, lastStatus: event.status }),
  effects: [{ type: 'finish', status: event.status, cause: 'spawn' }],
});
const killIt = (life: Lifecycle, event: { generation: number }): Transition => ({ next: life, effects: [{ type: 'kill', generation: event.generation }] });
const notReady: Action<'ready-timeout'> = (life, event) => ({
  next: life,
  effects: [{ type: 'warn', message: `generation ${event.generation} not ready within ${event.afterMs} ms; killing it` }, { type: 'kill', generation: event.generation }],
});

/** An OOM kill names the ending, unless angel was ending the generation for a reload or a shutdown: that reason
 * decides what follows (no restart after a shutdown). It restarts as an overrun does. */
const withOom = (reason: ExitReason, event: EventOf<'exited'>): ExitReason =>
  event.oomKilled && reason !== 'reload' && reason !== 'shutdown' ? 'oom' : reason;

/** The current child ended on its own or was stopped: restart, back off, give up or finish. */
const afterExit: Action<'exited'> = (life, event, rules) => {
  const reason = withOom(life.state === 'stopping' && life.stopReason ? life.stopReason : event.cleanExit ? 'exit' : 'crash', event);
  const base: Lifecycle = changed(life, { stopReason: null, lastStatus: event.status, current: null });
  const exit = { generation: event.generation, reason };
  const decision = decideRestart(reason, rules, life.history, event.now, event.servedMs ?? event.uptimeMs);
  switch (decision.action) {
    case 'end':
      return { next: changed(base, { state: 'stopped' }), effects: [{ type: 'finish', status: event.status, cause: life.shutdownCause ?? reason }], exit };
    case 'giveup': {
      const status = giveupStatus(event.status, reason, rules);
      return {
        next: changed(base, { state: 'stopped', lastStatus: status }),
        effects: [{ type: 'giveup', restarts: decision.restarts, status }, { type: 'finish', status, cause: 'giveup' }],
        exit,
      };
    }
    case 'restart': {
      const counted = changed(base, { history: decision.history });
      if (decision.delayMs > 0) return { next: changed(counted, { state: 'backoff', restartFor: reason }), effects: [{ type: 'schedule-restart', delayMs: decision.delayMs }], exit };
      const restarted = spawn(counted, 'current', reason);
      return { next: restarted.next, effects: restarted.effects, exit };
    }
  }
};

/** A reload or an overrun: with held sockets and a child that serves, the next generation starts beside it;
 * otherwise the current one is stopped and its exit restarts it. */
function replace(life: Lifecycle, reason: 'reload' | 'overrun', rules: RestartRules): Transition {
  if (rules.overlap && life.state === 'running') return spawn(changed(life, { stopReason: reason }), 'next', reason);
  return stop(life, reason, 'stop-signal');
}
const replaceForReload: Action<'reload'> = (life, _event, rules) => replace(life, 'reload', rules);
const replaceForOverrun: Action<'overrun'> = (life, _event, rules) => replace(life, 'overrun', rules);

function stop(life: Lifecycle, reason: StopReason, signal: NodeJS.Signals | 'stop-signal', cause?: string): Transition {
  const effects: Effect[] = [];
  let retiring = life.retiring;
  // a successor still warming up is abandoned: it never served
  if (life.next !== null) {
    retiring = { ...retiring, [life.next]: 'shutdown' };
    effects.push({ type: 'stop', generation: life.next, signal });
  }
  if (life.current !== null) effects.push({ type: 'stop', generation: life.current, signal });
  return {
    next: changed(life, { state: 'stopping', stopReason: reason, shutdownCause: cause ?? life.shutdownCause, next: null, retiring }),
    effects,
  };
}
const shutDown: Action<'shutdown'> = (life, event) => stop(life, 'shutdown', event.signal, event.cause);
/** A second INT/TERM while shutting down means now: SIGKILL, as tini and systemd do. */
const shutDownAgain: Action<'shutdown'> = (life, event, rules) =>
  life.stopReason === 'shutdown' && life.current !== null ? killIt(life, { generation: life.current }) : shutDown(life, event, rules);

/** A reload asked for during another runs now that that one has ended, serving again. */
function thenPending(transition: Transition, rules: RestartRules): Transition {
  const { next } = transition;
  if (!next.reloadPending || next.state !== 'running') return transition;
  const again = replace(changed(next, { reloadPending: false }), 'reload', rules);
  return { ...transition, next: again.next, effects: [...transition.effects, ...again.effects] };
}

/** Reloading: the next generation is ready, so it takes over and the current one retires gracefully. */
const promote: Action<'ready'> = (life, event, rules) => {
  if (event.generation !== life.next) return unchanged(life);
  const old = life.current;
  const retire: ExitReason = life.stopReason === 'overrun' ? 'overrun' : 'reload';
  const next: Lifecycle = {
    ...life, state: 'running', stopReason: null, current: event.generation, next: null,
    retiring: old === null ? life.retiring : { ...life.retiring, [old]: retire },
  };
  return thenPending({ next, effects: old === null ? [] : [{ type: 'stop', generation: old, signal: 'stop-signal' }] }, rules);
};

/** Reloading: another reload is asked for. It is not lost: it runs once this one ends (with the launch in force
 * then, so the newest config is the one that serves), and the generation starting now runs the one it took. */
const reloadAgain: Action<'reload'> = (life) => ({ next: changed(life, { reloadPending: true }), effects: [] });

/** Reloading: the next generation failed to start. The current one keeps serving, unless it was being
 * replaced for an overrun: then it is stopped the plain way. */
function nextFailed(life: Lifecycle, status: number, why = `failed to start (status ${status})`): Transition {
  const warn: Effect = { type: 'warn', message: `the next generation ${why}; the current one keeps serving` };
  const failed: Lifecycle = changed(life, { next: null });
  if (life.stopReason === 'overrun') {
    const stopped = stop(changed(failed, { stopReason: null }), 'overrun', 'stop-signal');
    return { ...stopped, effects: [warn, ...stopped.effects] };
  }
  return { next: changed(failed, { state: 'running', stopReason: null }), effects: [warn] };
}
const nextFailedThenPending = (life: Lifecycle, status: number, rules: RestartRules, why?: string): Transition => thenPending(nextFailed(life, status, why), rules);
/** Its number is given back: a generation that never ran is not counted in ANGEL_GENERATION. */
const nextSpawnFailed: Action<'spawn-failed'> = (life, event) => {
  if (event.generation !== life.next) return impossible(life, event);
  const failed = nextFailed(life, event.status);
  return { ...failed, next: changed(failed.next, { spawned: event.generation, reloadPending: false }) };
};

/** Reloading: a generation exited. The next one: it failed. The current one (it crashed, or the 1.5x
 * ceiling's SIGKILL ended an overrunning one): its successor is now the one starting. */
const exitWhileReloading: Action<'exited'> = (life, event, rules) => {
  if (event.generation === life.next) return { ...nextFailedThenPending(life, event.status, rules), exit: { generation: event.generation, reason: withOom('crash', event) } };
  const reason = withOom(life.stopReason === 'overrun' ? 'overrun' : event.cleanExit ? 'exit' : 'crash', event);
  return {
    next: changed(life, { state: 'starting', stopReason: null, lastStatus: event.status, current: life.next, next: null }),
    effects: [],
    exit: { generation: event.generation, reason },
  };
};
const notReadyWhileReloading: Action<'ready-timeout'> = (life, event, rules) => (event.generation === life.next ? notReady(life, event, rules) : unchanged(life));

/** A hang (a missed watchdog): the stop signal, the grace, SIGKILL, and a restart as after a crash. Not
 * replaced the overlapping way: a hung child holds what it holds, and serves nothing. */
const stopHung: Action<'watchdog'> = (life) => stop(life, 'watchdog', 'stop-signal');
/** Reloading: the next generation hung before it was ready: it is stopped and the current one keeps serving.
 * The current one hung while its successor warms up: it is stopped and the successor is the one starting. */
const hangWhileReloading: Action<'watchdog'> = (life, event) => {
  const hung = event.generation;
  const retiring = { ...life.retiring, [hung]: 'watchdog' as const };
  const stopIt: Effect = { type: 'stop', generation: hung, signal: 'stop-signal' };
  if (hung === life.next) {
    const failed = nextFailed(changed(life, { retiring }), 0, 'missed its watchdog');
    return { ...failed, effects: [stopIt, ...failed.effects] };
  }
  return { next: changed(life, { state: 'starting', stopReason: null, current: life.next, next: null, retiring }), effects: [stopIt] };
};

const restartNow: Action<'backoff-elapsed'> = (life) => spawn(life, 'current', life.restartFor);
const restartOnReload: Action<'reload'> = (life) => spawn(life, 'current', 'reload', [{ type: 'cancel-restart' }]);
const finishInBackoff: Action<'shutdown'> = (life, event) => ({
  next: changed(life, { state: 'stopped', shutdownCause: event.cause }),
  effects: [{ type: 'cancel-restart' }, { type: 'finish', status: life.lastStatus, cause: event.cause }],
});

const ignore = unchanged;
const never = impossible;

/** Every (event x state), as s6-supervise's actions[state][event]: the whole lifecycle in one grid. Events
 * about a retiring generation, or a late one about a generation already gone, are routed before it
 * (transition). */
const COLUMNS = ['idle', 'starting', 'running', 'reloading', 'stopping', 'backoff'] as const;
type Row<E extends EventType> = readonly [Action<E>, Action<E>, Action<E>, Action<E>, Action<E>, Action<E>];
const GRID: { [E in EventType]: Row<E> } = {
  //                   idle         starting            running             reloading                stopping            backoff
  start:              [startFirst,  never,              never,              never,                   never,              never],
  ready:              [never,       becomeRunning,      ignore,             promote,                 ignore,             ignore],
  'spawn-failed':     [never,       endOnSpawnFailure,  never,              nextSpawnFailed,         endOnSpawnFailure,  never],
  exited:             [never,       afterExit,          afterExit,          exitWhileReloading,      afterExit,          never],
  overrun:            [never,       replaceForOverrun,  replaceForOverrun,  ignore,                  ignore,             ignore],
  'hard-ceiling':     [never,       killIt,             killIt,             killIt,                  killIt,             ignore],
  'oom-kill':         [never,       killIt,             killIt,             killIt,                  killIt,             ignore],
  'ready-timeout':    [never,       notReady,           ignore,             notReadyWhileReloading,  killIt,             ignore],
  watchdog:           [never,       stopHung,           stopHung,           hangWhileReloading,      ignore,             ignore],
  reload:             [ignore,      replaceForReload,   replaceForReload,   reloadAgain,             ignore,             restartOnReload],
  shutdown:           [finishIdle,  shutDown,           shutDown,           shutDown,                shutDownAgain,      finishInBackoff],
  deadline:           [never,       never,              never,              never,                   killIt,             ignore],
  'backoff-elapsed':  [never,       never,              never,              never,                   never,              restartNow],
};

/** A retiring generation: its exit is reported with the reason it retired for and changes no state; its
 * deadline or a growth past the hard ceiling kills it; nothing else it does matters any more. */
function retiringEvent(life: Lifecycle, event: LifecycleEvent & { generation: number }): Transition {
  const reason = life.retiring[event.generation] as ExitReason;
  switch (event.type) {
    case 'exited': return { next: changed(life, { retiring: without(life.retiring, event.generation) }), effects: [], exit: { generation: event.generation, reason: withOom(reason, event) } };
    case 'deadline':
    case 'hard-ceiling':
    case 'oom-kill':
      return killIt(life, event);
    default:
      return unchanged(life);
  }
}

export function transition(life: Lifecycle, event: LifecycleEvent, rules: RestartRules): Transition {
  if (life.state === 'stopped') return unchanged(life);
  if ('generation' in event) {
    if (Object.hasOwn(life.retiring, event.generation)) return retiringEvent(life, event);
    if (event.generation !== life.current && event.generation !== life.next) {
      // a late timer or sample of a generation already gone changes nothing; its exit, or anything of one
      // never spawned, cannot happen
      const gone = event.generation < life.spawned && event.type !== 'exited' && event.type !== 'spawn-failed';
      return gone ? unchanged(life) : impossible(life, event);
    }
  }
  const action = GRID[event.type][COLUMNS.indexOf(life.state)] as Action<EventType>;
  const result = action(life, event, rules);
  // a readiness counts when it is the current or the next generation's, whatever it changes
  if (event.type === 'ready') return { next: result.next, effects: result.effects, ready: { generation: event.generation, overlapped: event.generation === life.next } };
  return result;
}
