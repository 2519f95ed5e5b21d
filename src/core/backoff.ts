// Pure: when to restart and when to give up. First restart immediate, then exponential up to the cap,
// reset after a stable run; more restarts than maxRestarts within the window is a crash loop.
import type { ExitReason, RestartPolicy } from './types.js';

export const FIRST_DELAY_MS = 100;
export const STABLE_AFTER_MS = 10_000;

export interface RestartRules {
  policy: RestartPolicy;
  maxRestarts: number;
  windowMs: number;
  maxDelayMs: number;
  /** Held sockets: a reload or an overrun starts the next generation before the current one is stopped. */
  overlap?: boolean;
}

export interface RestartHistory {
  /** When each restart within the window happened (ms, any monotonic clock). */
  readonly times: readonly number[];
  /** Restarts since the last stable run; drives the exponential delay. */
  readonly consecutive: number;
}

export const NO_HISTORY: RestartHistory = { times: [], consecutive: 0 };

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

/** Decides what follows a child's end at `now`, after it ran for `uptimeMs`. */
export function decideRestart(
  reason: ExitReason,
  rules: RestartRules,
  history: RestartHistory,
  now: number,
  uptimeMs: number,
): RestartDecision {
  if (!wantsRestart(rules.policy, reason)) return { action: 'end' };
  if (reason === 'reload') return { action: 'restart', delayMs: 0, history };
  const times = history.times.filter((time) => now - time < rules.windowMs);
  if (times.length >= rules.maxRestarts) return { action: 'giveup', restarts: times.length };
  const consecutive = uptimeMs >= STABLE_AFTER_MS ? 0 : history.consecutive;
  return {
    action: 'restart',
    delayMs: backoffDelay(consecutive, rules.maxDelayMs),
    history: { times: [...times, now], consecutive: consecutive + 1 },
  };
}
