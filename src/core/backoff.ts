// Pure: when to restart and when to give up, as operators expect it (runit's one second, PM2's min_uptime, s6
// counting from readiness): a child that served at least minUptime restarts at once (after restartDelay, if
// set) and resets the backoff; only a quick death makes the delay grow (0, 100, 200, 400 ms … up to the cap)
// and counts toward the crash-loop guard: more quick deaths than maxRestarts within the window is a crash
// loop, and angel gives up. A service that runs and crashes now and then is restarted forever.
import type { ResolvedOptions } from './options.js';
import type { ExitReason, RestartPolicy } from './types.js';

export const FIRST_DELAY_MS = 100;

export interface RestartRules {
  policy: RestartPolicy;
  maxRestarts: number;
  windowMs: number;
  maxDelayMs: number;
  /** A child that served at least this long (from readiness) did not crash-loop (--min-uptime). */
  minUptimeMs: number;
  /** A fixed delay before every restart (--restart-delay); the backoff wins when larger. */
  restartDelayMs: number;
  /** The number of the stop signal, for the status of a give-up whose last child exited 0 on angel's stop. */
  stopSignalNumber: number;
  /** Held sockets: a reload or an overrun starts the next generation before the current one is stopped. */
  overlap?: boolean;
}

/** One counted restart. `newer` is written once, when the next restart is recorded after this one. */
interface Entry {
  readonly time: number;
  newer: Entry | null;
}

/**
 * The times of the counted restarts still within the window, oldest first, recorded in the order of a
 * monotonic clock. Its primitives are `record(time)` and `within(now, windowMs).size`, the count in the
 * window: the give-up needs no more, and a --min-uptime would record only the quick deaths.
 *
 * Why not an array or a ring: the lifecycle is pure, so a plain array is copied per restart, and in a crash
 * loop that made each restart cost O(restarts in the window), garbage to match. A ring of the last maxRestarts
 * times copied per restart is O(maxRestarts), no better when maxRestarts is set high (the benchmarks set
 * 100,000 and more), and counts per time bucket would only approximate the rule. So this is a persistent
 * queue: the entries link forward, oldest to newest, and a version is (oldest, newest, size). Recording links
 * a new entry after `newest`, a write no older version sees, since each stops at its own newest; trimming
 * moves `oldest` past the entries that left, which become garbage. Both are O(1) per restart (trimming
 * amortized: an entry leaves once), and what is held is at most maxRestarts entries, since reaching it gives
 * up instead of recording. Recording twice after one version (the table tests do; the lifecycle, which
 * threads one history, never does) copies that version first.
 */
export class RecentTimes {
  static readonly EMPTY = new RecentTimes(null, null, 0);
  readonly #oldest: Entry | null;
  readonly #newest: Entry | null;
  readonly size: number;

  private constructor(oldest: Entry | null, newest: Entry | null, size: number) {
    this.#oldest = oldest;
    this.#newest = newest;
    this.size = size;
  }

  static of(times: Iterable<number>): RecentTimes {
    let recent = RecentTimes.EMPTY;
    for (const time of times) recent = recent.record(time);
    return recent;
  }

  record(time: number): RecentTimes {
    const entry: Entry = { time, newer: null };
    const newest = this.#newest;
    if (newest === null) return new RecentTimes(entry, entry, 1);
    if (newest.newer !== null) return RecentTimes.of(this.toArray()).record(time);
    newest.newer = entry;
    return new RecentTimes(this.#oldest, entry, this.size + 1);
  }

  /** Less the times `windowMs` or more before `now` (the comparison of the list-based rule, to the bit). */
  within(now: number, windowMs: number): RecentTimes {
    let oldest = this.#oldest;
    let size = this.size;
    // the times are in order, so those that left the window are a prefix; past the last entry is
    // another version's, hence the count rather than the link
    while (oldest !== null && now - oldest.time >= windowMs) {
      oldest = --size > 0 ? oldest.newer : null;
    }
    if (size === this.size) return this;
    return size === 0 ? RecentTimes.EMPTY : new RecentTimes(oldest, this.#newest, size);
  }

  toArray(): number[] {
    const times: number[] = [];
    for (let entry = this.#oldest; entry !== null && times.length < this.size; entry = entry.newer) times.push(entry.time);
    return times;
  }
}

export interface RestartHistory {
  /** The counted restarts within the window (ms, any monotonic clock). */
  readonly times: RecentTimes;
  /** Restarts since the last stable run; drives the exponential delay. */
  readonly consecutive: number;
}

export const NO_HISTORY: RestartHistory = { times: RecentTimes.EMPTY, consecutive: 0 };

export type RestartDecision =
  | { action: 'restart'; delayMs: number; history: RestartHistory }
  | { action: 'giveup'; restarts: number }
  | { action: 'end' };

/** Whether the policy restarts after an ending of this kind (a reload always restarts, a shutdown never). */
export function wantsRestart(policy: RestartPolicy, reason: ExitReason): boolean {
  if (reason === 'reload') return true;
  if (reason === 'shutdown' || policy === 'never') return false;
  return policy === 'always' || reason !== 'exit';
}

export function backoffDelay(consecutive: number, maxDelayMs: number): number {
  if (consecutive === 0) return 0;
  return Math.min(maxDelayMs, FIRST_DELAY_MS * 2 ** Math.min(consecutive - 1, 30));
}

/** Decides what follows a child's end at `now`, after it served (was ready) for `servedMs`. */
export function decideRestart(
  reason: ExitReason,
  rules: RestartRules,
  history: RestartHistory,
  now: number,
  servedMs: number,
): RestartDecision {
  if (!wantsRestart(rules.policy, reason)) return { action: 'end' };
  if (reason === 'reload') return { action: 'restart', delayMs: 0, history };
  if (servedMs >= rules.minUptimeMs) {
    // it ran: no crash loop, nothing counted, the backoff starts over
    return { action: 'restart', delayMs: rules.restartDelayMs, history: { times: history.times, consecutive: 0 } };
  }
  const times = history.times.within(now, rules.windowMs);
  if (times.size >= rules.maxRestarts) return { action: 'giveup', restarts: times.size };
  return {
    action: 'restart',
    delayMs: Math.max(rules.restartDelayMs, backoffDelay(history.consecutive, rules.maxDelayMs)),
    history: { times: times.record(now), consecutive: history.consecutive + 1 },
  };
}

/** A give-up is a failure whatever the last child said: its status, unless that is 0 (it exited cleanly on
 * angel's own stop, for an overrun say), then 128 + the stop signal where angel stopped it, else 1. */
export function giveupStatus(status: number, reason: ExitReason, rules: RestartRules): number {
  if (status !== 0) return status;
  return reason === 'overrun' || reason === 'watchdog' || reason === 'oom' ? 128 + rules.stopSignalNumber : 1;
}

/** The rules of a launch's options; `socketsHeld`: a reload or an overrun overlaps (the next generation starts
 * and becomes ready before the current one is stopped) exactly when angel holds the sockets both can serve. */
export function restartRulesOf(
  options: Pick<ResolvedOptions, 'restart' | 'maxRestarts' | 'restartWindow' | 'maxRestartDelay' | 'minUptime' | 'restartDelay'>,
  stopSignalNumber: number,
  socketsHeld: boolean,
): RestartRules {
  return {
    policy: options.restart,
    maxRestarts: options.maxRestarts,
    windowMs: options.restartWindow * 1000,
    maxDelayMs: options.maxRestartDelay,
    minUptimeMs: options.minUptime,
    restartDelayMs: options.restartDelay,
    stopSignalNumber,
    overlap: socketsHeld,
  };
}

/** A restart's latency, by angel's clock: from the old child's death (angel's exit callback for it) to the new
 * one counting as started (its exec, or its readiness with --ready), less the backoff waited; an overlapped
 * reload has no gap: 0. */
export function restartLatencyMs(readyAt: number, diedAt: number, delayMs: number, overlapped: boolean): number {
  return overlapped ? 0 : Math.max(0, readyAt - diedAt - delayMs);
}
