// Pure: the child's whole lifecycle on one page. Requests (reload, shutdown) and facts (spawned, ready,
// exited, overrun, deadline) go in; the next state and the effects for the driver to run come out.
import { decideRestart, type RestartHistory, type RestartRules } from './backoff.js';
import type { ExitReason, State } from './types.js';

export type StopReason = 'overrun' | 'reload' | 'shutdown';

export type LifecycleEvent =
  | { type: 'start' }
  | { type: 'ready' }
  | { type: 'spawn-failed'; status: number }
  | { type: 'exited'; status: number; cleanExit: boolean; uptimeMs: number; now: number; role?: 'current' | 'next' }
  | { type: 'overrun' }
  | { type: 'hard-ceiling' }
  | { type: 'reload' }
  | { type: 'shutdown'; signal: NodeJS.Signals; cause: string }
  | { type: 'deadline' }
  | { type: 'backoff-elapsed' };

export type Effect =
  | { type: 'spawn' }
  /** Start the next generation beside the current one (held sockets). */
  | { type: 'spawn-next' }
  /** The next generation takes over; the old one is stopped gracefully for `retire`, or is already gone (null). */
  | { type: 'promote'; retire: 'reload' | 'overrun' | null }
  | { type: 'warn'; message: string }
  | { type: 'stop'; signal: NodeJS.Signals | 'stop-signal' }
  | { type: 'kill' }
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
}

export interface Transition {
  next: Lifecycle;
  effects: Effect[];
  /** For an 'exited' event: how the child's ending is reported. */
  exitReason?: ExitReason;
}

export function initialLifecycle(history: RestartHistory): Lifecycle {
  return { state: 'idle', stopReason: null, shutdownCause: null, lastStatus: 0, history };
}

function afterExit(life: Lifecycle, event: Extract<LifecycleEvent, { type: 'exited' }>, rules: RestartRules): Transition {
  const reason: ExitReason = life.state === 'stopping' && life.stopReason ? life.stopReason : event.cleanExit ? 'exit' : 'crash';
  const base = { ...life, stopReason: null, lastStatus: event.status };
  const decision = decideRestart(reason, rules, life.history, event.now, event.uptimeMs);
  switch (decision.action) {
    case 'end':
      return {
        next: { ...base, state: 'stopped' },
        effects: [{ type: 'finish', status: event.status, cause: life.shutdownCause ?? reason }],
        exitReason: reason,
      };
    case 'giveup':
      return {
        next: { ...base, state: 'stopped' },
        effects: [
          { type: 'giveup', restarts: decision.restarts, status: event.status },
          { type: 'finish', status: event.status, cause: 'giveup' },
        ],
        exitReason: reason,
      };
    case 'restart':
      return decision.delayMs === 0
        ? { next: { ...base, state: 'starting', history: decision.history }, effects: [{ type: 'spawn' }], exitReason: reason }
        : {
            next: { ...base, state: 'backoff', history: decision.history },
            effects: [{ type: 'schedule-restart', delayMs: decision.delayMs }],
            exitReason: reason,
          };
  }
}

function stop(life: Lifecycle, reason: StopReason, signal: NodeJS.Signals | 'stop-signal', cause?: string): Transition {
  return {
    next: { ...life, state: 'stopping', stopReason: reason, shutdownCause: cause ?? life.shutdownCause },
    effects: [{ type: 'stop', signal }],
  };
}

const unchanged = (life: Lifecycle): Transition => ({ next: life, effects: [] });
const impossible = (life: Lifecycle, event: LifecycleEvent): Transition => ({
  next: life,
  effects: [{ type: 'impossible', event: `${event.type} in ${life.state}` }],
});

/** Every (state x event) pair is decided here; the pairs that cannot happen are named as such. */
export function transition(life: Lifecycle, event: LifecycleEvent, rules: RestartRules): Transition {
  switch (life.state) {
    case 'idle':
      switch (event.type) {
        case 'start': return { next: { ...life, state: 'starting' }, effects: [{ type: 'spawn' }] };
        case 'shutdown':
          return { next: { ...life, state: 'stopped' }, effects: [{ type: 'finish', status: 0, cause: event.cause }] };
        case 'reload': return unchanged(life);
        default: return impossible(life, event);
      }
    case 'starting':
    case 'running':
      switch (event.type) {
        case 'ready': return life.state === 'starting' ? { next: { ...life, state: 'running' }, effects: [] } : unchanged(life);
        case 'spawn-failed':
          return { next: { ...life, state: 'stopped', lastStatus: event.status }, effects: [{ type: 'finish', status: event.status, cause: 'spawn' }] };
        case 'exited': return afterExit(life, event, rules);
        case 'overrun':
        case 'reload':
          if (rules.overlap && life.state === 'running') {
            return { next: { ...life, state: 'reloading', stopReason: event.type }, effects: [{ type: 'spawn-next' }] };
          }
          return stop(life, event.type, 'stop-signal');
        case 'shutdown': return stop(life, 'shutdown', event.signal, event.cause);
        case 'hard-ceiling': return { next: life, effects: [{ type: 'kill' }] };
        case 'start':
        case 'deadline':
        case 'backoff-elapsed':
          return impossible(life, event);
      }
      return impossible(life, event);
    case 'reloading':
      // The current generation serves while the next one starts; only a ready next one replaces it.
      switch (event.type) {
        case 'ready':
          return {
            next: { ...life, state: 'running', stopReason: null },
            effects: [{ type: 'promote', retire: life.stopReason === 'overrun' ? 'overrun' : 'reload' }],
          };
        case 'exited':
          if (event.role === 'next') {
            const failed = { ...life, stopReason: null, lastStatus: life.lastStatus };
            const warn: Effect = { type: 'warn', message: `the next generation failed to start (status ${event.status}); the current one keeps serving` };
            // an overrunning child cannot simply keep running: stop it the plain way instead
            if (life.stopReason === 'overrun') {
              return { next: { ...failed, state: 'stopping', stopReason: 'overrun' }, effects: [warn, { type: 'stop', signal: 'stop-signal' }], exitReason: 'crash' };
            }
            return { next: { ...failed, state: 'running' }, effects: [warn], exitReason: 'crash' };
          }
          // the current one died while its successor warms up: the successor is now the one starting. An
          // overrunning one that dies meanwhile (the 1.5x ceiling's SIGKILL, most likely) ended by its overrun.
          return {
            next: { ...life, state: 'starting', stopReason: null, lastStatus: event.status },
            effects: [{ type: 'promote', retire: null }],
            exitReason: life.stopReason === 'overrun' ? 'overrun' : event.cleanExit ? 'exit' : 'crash',
          };
        case 'shutdown': return stop(life, 'shutdown', event.signal, event.cause);
        case 'hard-ceiling': return { next: life, effects: [{ type: 'kill' }] };
        case 'reload':
        case 'overrun':
          return unchanged(life);
        default:
          return impossible(life, event);
      }
    case 'stopping':
      switch (event.type) {
        case 'exited': return afterExit(life, event, rules);
        case 'deadline':
        case 'hard-ceiling':
          return { next: life, effects: [{ type: 'kill' }] };
        case 'shutdown':
          // A second INT/TERM while shutting down means now: SIGKILL, as tini and systemd do.
          if (life.stopReason === 'shutdown') return { next: life, effects: [{ type: 'kill' }] };
          return stop(life, 'shutdown', event.signal, event.cause);
        case 'overrun':
        case 'reload':
        case 'ready':
          return unchanged(life);
        case 'spawn-failed':
        case 'start':
        case 'backoff-elapsed':
          return impossible(life, event);
      }
      return impossible(life, event);
    case 'backoff':
      switch (event.type) {
        case 'backoff-elapsed': return { next: { ...life, state: 'starting' }, effects: [{ type: 'spawn' }] };
        case 'reload':
          return { next: { ...life, state: 'starting' }, effects: [{ type: 'cancel-restart' }, { type: 'spawn' }] };
        case 'shutdown':
          return {
            next: { ...life, state: 'stopped', shutdownCause: event.cause },
            effects: [{ type: 'cancel-restart' }, { type: 'finish', status: life.lastStatus, cause: event.cause }],
          };
        case 'overrun':
        case 'deadline':
        case 'hard-ceiling':
          return unchanged(life); // late timers or samples of the child that already ended
        default:
          return impossible(life, event);
      }
    case 'stopped':
      return unchanged(life);
  }
}
