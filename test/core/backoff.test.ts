// The restart policy, pure: which endings restart, how long to wait, and when a crash loop gives up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  backoffDelay, decideRestart, FIRST_DELAY_MS, giveupStatus, NO_HISTORY, wantsRestart,
  type RestartDecision, type RestartHistory, type RestartRules,
} from '../../src/core/backoff.js';
import type { ExitReason, RestartPolicy } from '../../src/core/types.js';
import { historyOf as history, plain as plainHistory } from '../helpers/history.js';

/** --min-uptime's default. */
const MIN_UPTIME = 1000;
const rules: RestartRules = { policy: 'on-failure', maxRestarts: 3, windowMs: 1000, maxDelayMs: 10_000, minUptimeMs: MIN_UPTIME, restartDelayMs: 0, stopSignalNumber: 15 };
/** A decision with its history read back as a list, to compare with a literal. */
const plain = (decision: RestartDecision) =>
  decision.action === 'restart' ? { ...decision, history: plainHistory(decision.history) } : decision;

test('wantsRestart: every policy x every reason', () => {
  // a reload always restarts, a shutdown never; otherwise the policy decides, and on-failure spares a clean exit
  const table: Record<RestartPolicy, Record<ExitReason, boolean>> = {
    'on-failure': { exit: false, crash: true, overrun: true, oom: true, watchdog: true, reload: true, shutdown: false },
    always: { exit: true, crash: true, overrun: true, oom: true, watchdog: true, reload: true, shutdown: false },
    never: { exit: false, crash: false, overrun: false, oom: false, watchdog: false, reload: true, shutdown: false },
  };
  for (const [policy, row] of Object.entries(table) as Array<[RestartPolicy, Record<ExitReason, boolean>]>) {
    for (const [reason, expected] of Object.entries(row) as Array<[ExitReason, boolean]>) {
      assert.equal(wantsRestart(policy, reason), expected, `${policy} x ${reason}`);
    }
  }
});

test('backoffDelay: 0, then 100 doubling, capped; a cap of 0 restarts at once, always', () => {
  assert.equal(FIRST_DELAY_MS, 100);
  const sequence = Array.from({ length: 12 }, (_, consecutive) => backoffDelay(consecutive, 10_000));
  assert.deepEqual(sequence, [0, 100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000, 10_000]);
  assert.deepEqual([0, 1, 2, 3].map((n) => backoffDelay(n, 250)), [0, 100, 200, 250]);
  assert.deepEqual([0, 1, 2, 10, 100].map((n) => backoffDelay(n, 0)), [0, 0, 0, 0, 0]);
  // a long crash loop neither overflows nor goes past the cap
  for (const consecutive of [31, 64, 1000, Number.MAX_SAFE_INTEGER]) {
    assert.equal(backoffDelay(consecutive, 10_000), 10_000, `consecutive ${consecutive}`);
  }
});

test('decideRestart: an ending the policy does not restart ends angel, whatever the history', () => {
  const cases: Array<[RestartPolicy, ExitReason]> = [
    ['on-failure', 'exit'], ['on-failure', 'shutdown'], ['always', 'shutdown'], ['never', 'crash'], ['never', 'overrun'], ['never', 'exit'],
  ];
  for (const [policy, reason] of cases) {
    // even with the window full: an ending is not a giveup
    assert.deepEqual(decideRestart(reason, { ...rules, policy }, history([1, 2, 3]), 10, 5), { action: 'end' }, `${policy} x ${reason}`);
  }
});

test('decideRestart: the delay follows consecutive restarts, and the history records this one', () => {
  const steps: Array<{ before: RestartHistory; now: number; delayMs: number; after: ReturnType<typeof plainHistory> }> = [
    { before: NO_HISTORY, now: 0, delayMs: 0, after: { times: [0], consecutive: 1 } },
    { before: history([0]), now: 10, delayMs: 100, after: { times: [0, 10], consecutive: 2 } },
    { before: history([0, 10]), now: 20, delayMs: 200, after: { times: [0, 10, 20], consecutive: 3 } },
  ];
  for (const { before, now, delayMs, after } of steps) {
    assert.deepEqual(plain(decideRestart('crash', rules, before, now, 5)), { action: 'restart', delayMs, history: after }, `at ${now}`);
  }
  // an overrun counts like a crash; so does a clean exit under 'always'
  assert.deepEqual(plain(decideRestart('overrun', rules, history([0]), 10, 5)), { action: 'restart', delayMs: 100, history: { times: [0, 10], consecutive: 2 } });
  assert.deepEqual(plain(decideRestart('exit', { ...rules, policy: 'always' }, NO_HISTORY, 7, 5)), { action: 'restart', delayMs: 0, history: { times: [7], consecutive: 1 } });
});

test('decideRestart: gives up exactly when the restarts within the window reach maxRestarts', () => {
  const table: Array<{ maxRestarts: number; times: number[]; now: number; action: 'restart' | 'giveup'; restarts?: number }> = [
    { maxRestarts: 3, times: [], now: 0, action: 'restart' },
    { maxRestarts: 3, times: [0, 1], now: 2, action: 'restart' },
    { maxRestarts: 3, times: [0, 1, 2], now: 3, action: 'giveup', restarts: 3 },
    { maxRestarts: 3, times: [0, 1, 2, 3], now: 4, action: 'giveup', restarts: 4 },
    { maxRestarts: 1, times: [0], now: 999, action: 'giveup', restarts: 1 },
    { maxRestarts: 0, times: [], now: 0, action: 'giveup', restarts: 0 },
    // the window: a restart exactly windowMs ago has left it
    { maxRestarts: 3, times: [0, 500, 600], now: 999, action: 'giveup', restarts: 3 },
    { maxRestarts: 3, times: [0, 500, 600], now: 1000, action: 'restart' },
    { maxRestarts: 3, times: [0, 100, 200], now: 5000, action: 'restart' },
  ];
  for (const { maxRestarts, times, now, action, restarts } of table) {
    const decision = decideRestart('crash', { ...rules, maxRestarts }, history(times), now, 5);
    const label = `max ${maxRestarts}, times [${times.join(', ')}], now ${now}`;
    assert.equal(decision.action, action, label);
    if (decision.action === 'giveup') assert.equal(decision.restarts, restarts, label);
  }
});

test('decideRestart: the history keeps only the restarts within the window', () => {
  const decision = decideRestart('crash', rules, history([0, 100, 1500], 3), 2050, 5);
  assert.deepEqual(plain(decision), { action: 'restart', delayMs: 400, history: { times: [1500, 2050], consecutive: 4 } });
});

test('decideRestart: a child that served --min-uptime restarts at once, resets the backoff and is not counted; a quicker one is', () => {
  const loop = history([0, 1, 2], 12);
  const wide = { ...rules, maxRestarts: 10 };
  assert.deepEqual(plain(decideRestart('crash', wide, loop, 3, MIN_UPTIME - 1)), {
    action: 'restart', delayMs: 10_000, history: { times: [0, 1, 2, 3], consecutive: 13 },
  });
  assert.deepEqual(plain(decideRestart('crash', wide, loop, 3, MIN_UPTIME)), {
    action: 'restart', delayMs: 0, history: { times: [0, 1, 2], consecutive: 0 },
  });
  // a service that ran is restarted even with the window full of earlier quick deaths; a quick one gives up
  assert.deepEqual(plain(decideRestart('crash', rules, loop, 30, MIN_UPTIME)), { action: 'restart', delayMs: 0, history: { times: [0, 1, 2], consecutive: 0 } });
  assert.deepEqual(decideRestart('crash', rules, loop, 30, 5), { action: 'giveup', restarts: 3 });
  // overruns count by the same rule
  assert.deepEqual(plain(decideRestart('overrun', rules, NO_HISTORY, 5, MIN_UPTIME * 3)), { action: 'restart', delayMs: 0, history: { times: [], consecutive: 0 } });
});

test('decideRestart: --restart-delay before every restart, the backoff winning when larger', () => {
  const delayed = { ...rules, maxRestarts: 10, restartDelayMs: 250 };
  const delays = [[0, MIN_UPTIME, 250], [0, 5, 250], [1, 5, 250], [3, 5, 400], [6, 5, 3200]] as const;
  for (const [consecutive, served, delayMs] of delays) {
    const decision = decideRestart('crash', delayed, history([], consecutive), 10, served);
    assert.equal(decision.action === 'restart' && decision.delayMs, delayMs, `after ${consecutive} quick deaths, served ${served} ms`);
  }
});

test('giveupStatus: a give-up is never 0', () => {
  assert.equal(giveupStatus(0, 'overrun', rules), 143, 'exited 0 on angel\'s SIGTERM: 128 + the stop signal');
  assert.equal(giveupStatus(0, 'overrun', { ...rules, stopSignalNumber: 2 }), 130);
  assert.equal(giveupStatus(0, 'watchdog', rules), 143);
  assert.equal(giveupStatus(0, 'exit', { ...rules, policy: 'always' }), 1, 'exited 0 on its own: 1');
  assert.equal(giveupStatus(137, 'overrun', rules), 137, 'died of the stop: its own status');
  assert.equal(giveupStatus(2, 'crash', rules), 2);
});

test('decideRestart: a reload restarts at once and is never counted, even with the window full', () => {
  for (const policy of ['on-failure', 'always', 'never'] as const) {
    const full = history([0, 1, 2], 7);
    const decision = decideRestart('reload', { ...rules, policy }, full, 3, 5);
    assert.deepEqual(plain(decision), { action: 'restart', delayMs: 0, history: plainHistory(full) }, policy);
    assert.equal(decision.action === 'restart' && decision.history, full, `${policy}: the very history it was given`);
  }
  const afterReloads = [1, 2, 3, 4, 5].reduce<RestartHistory>((before, now) => {
    const decision = decideRestart('reload', rules, before, now, 5);
    assert.equal(decision.action, 'restart');
    return decision.action === 'restart' ? decision.history : before;
  }, NO_HISTORY);
  assert.equal(afterReloads, NO_HISTORY);
});

test('decideRestart does not change the history it is given, even deciding twice from it', () => {
  const before = history([0, 10, 1200], 3);
  const first = decideRestart('crash', rules, before, 1300, 5);
  const second = decideRestart('crash', { ...rules, windowMs: 5000 }, before, 1400, 5);
  assert.deepEqual(plainHistory(before), { times: [0, 10, 1200], consecutive: 3 });
  assert.deepEqual(plain(first), { action: 'restart', delayMs: 400, history: { times: [1200, 1300], consecutive: 4 } });
  assert.deepEqual(plain(second), { action: 'giveup', restarts: 3 });
  const third = decideRestart('crash', { ...rules, maxRestarts: 10 }, before, 1400, 5);
  assert.deepEqual(plain(third), { action: 'restart', delayMs: 400, history: { times: [1200, 1400], consecutive: 4 } });
  assert.deepEqual(plain(first), { action: 'restart', delayMs: 400, history: { times: [1200, 1300], consecutive: 4 } }, 'the first is as it was');
});

test('decideRestart: 100,000 restarts hold only the restarts within the window, never more than maxRestarts', () => {
  // 0.6 ms apart, 1667 or so within any 1000 ms: never giving up, as in a long crash loop with a high maxRestarts
  const loop = { ...rules, maxRestarts: 2000, windowMs: 1000, maxDelayMs: 0 };
  const spacing = 0.6;
  let current = NO_HISTORY;
  let largest = 0;
  for (let restart = 0; restart < 100_000; restart++) {
    const decision = decideRestart('crash', loop, current, restart * spacing, 5);
    if (decision.action !== 'restart') assert.fail(`restart ${restart}: ${JSON.stringify(decision)}`);
    current = decision.history;
    largest = Math.max(largest, current.times.size);
  }
  assert.ok(largest <= Math.ceil(loop.windowMs / spacing) + 1, `${largest} held`);
  assert.ok(largest <= loop.maxRestarts);
  const held = current.times.toArray();
  assert.equal(held.length, current.times.size);
  assert.equal(held.at(-1), 99_999 * spacing);
  assert.ok(held.every((time) => 99_999 * spacing - time < loop.windowMs));
});

/** The rule as it was, on a plain list copied per restart: the reference the queue must agree with. */
function listRule(reason: ExitReason, rules: RestartRules, history: { times: number[]; consecutive: number }, now: number, uptimeMs: number) {
  if (!wantsRestart(rules.policy, reason)) return { action: 'end' as const };
  if (reason === 'reload') return { action: 'restart' as const, delayMs: 0, history };
  if (uptimeMs >= rules.minUptimeMs) return { action: 'restart' as const, delayMs: rules.restartDelayMs, history: { times: history.times, consecutive: 0 } };
  const times = history.times.filter((time) => now - time < rules.windowMs);
  if (times.length >= rules.maxRestarts) return { action: 'giveup' as const, restarts: times.length };
  const delayMs = Math.max(rules.restartDelayMs, backoffDelay(history.consecutive, rules.maxDelayMs));
  return { action: 'restart' as const, delayMs, history: { times: [...times, now], consecutive: history.consecutive + 1 } };
}

test('decideRestart agrees with the list-based rule, decision by decision, over a generated crash loop', () => {
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const pick = <T>(choices: readonly T[]): T => choices[Math.floor(random() * choices.length)] as T;
  let loop: RestartRules = { ...rules, maxRestarts: 5, windowMs: 1000 };
  let queue = NO_HISTORY;
  let list = { times: [] as number[], consecutive: 0 };
  let now = 0;
  const seen = { restart: 0, giveup: 0, end: 0 };
  for (let step = 0; step < 20_000; step++) {
    // bursts, spread-out crashes, and gaps of exactly a window (integer times meet the edge to the bit)
    now += pick([() => random() * 3, () => random() * 400, () => loop.windowMs, () => Math.floor(random() * 4) * 250, () => 0])();
    // a config reload now and then changes the limit and the window under a history already held
    if (random() < 0.01) loop = { ...loop, maxRestarts: pick([0, 1, 3, 5, 12]), windowMs: pick([500, 1000, 2000]) };
    const reason = pick<ExitReason>(['crash', 'crash', 'crash', 'overrun', 'reload', 'exit']);
    const uptimeMs = random() < 0.05 ? MIN_UPTIME : 5;
    const expected = listRule(reason, loop, list, now, uptimeMs);
    const decision = decideRestart(reason, loop, queue, now, uptimeMs);
    assert.deepEqual(plain(decision), expected, `step ${step}, ${reason} at ${now} with ${JSON.stringify(loop)}`);
    seen[decision.action]++;
    if (decision.action === 'restart' && expected.action === 'restart') {
      queue = decision.history;
      list = expected.history;
    }
  }
  // the sequence exercised each outcome, not just one
  for (const [action, count] of Object.entries(seen)) assert.ok(count > 500, `${action}: ${count}`);
});
