// The overrun judge, pure: what one sample means, row by row, for each way the lifecycle watches a generation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeSample, type Judgement, type Watch } from '../../src/core/overrun.js';

const rules = { capBytes: 100, samples: 1 };
const debounced = { capBytes: 100, samples: 3 };

const table: Array<[string, typeof rules, Watch, number, number, Judgement]> = [
  // watched: over the cap for `samples` samples in a row is an overrun; one under resets the count
  ['watched, under the cap', rules, 'watched', 0, 99, { samplesOver: 0, verdict: 'within' }],
  ['watched, at the cap is not over it', rules, 'watched', 0, 100, { samplesOver: 0, verdict: 'within' }],
  ['watched, one sample over with samples 1', rules, 'watched', 0, 101, { samplesOver: 1, verdict: 'overrun' }],
  ['watched, debounced: the first sample over', debounced, 'watched', 0, 150, { samplesOver: 1, verdict: 'within' }],
  ['watched, debounced: the second', debounced, 'watched', 1, 150, { samplesOver: 2, verdict: 'within' }],
  ['watched, debounced: the third is an overrun', debounced, 'watched', 2, 101, { samplesOver: 3, verdict: 'overrun' }],
  ['watched, debounced: a sample under resets the count', debounced, 'watched', 2, 99, { samplesOver: 0, verdict: 'within' }],
  ['watched, far past 1.5x is still a plain overrun (it asks gracefully first)', rules, 'watched', 0, 1000, { samplesOver: 1, verdict: 'overrun' }],
  // stopping for an overrun: the grace period, up to the hard ceiling of 1.5x
  ['stopping for overrun, over the cap but within 1.5x', rules, 'stopping-for-overrun', 1, 149, { samplesOver: 1, verdict: 'within' }],
  ['stopping for overrun, exactly 1.5x is within', rules, 'stopping-for-overrun', 1, 150, { samplesOver: 1, verdict: 'within' }],
  ['stopping for overrun, past 1.5x: the hard ceiling', rules, 'stopping-for-overrun', 1, 151, { samplesOver: 1, verdict: 'hard-ceiling' }],
  // not judged: a generation replaced for a reload, stopped for a shutdown, or warming up beside the current one
  ['not judged, however large', rules, 'not-judged', 5, 10_000, { samplesOver: 0, verdict: 'within' }],
];

test('the overrun judge, row by row', async (t) => {
  for (const [name, judgeRules, watch, samplesOver, rssBytes, expected] of table) {
    await t.test(name, () => assert.deepEqual(judgeSample(judgeRules, watch, samplesOver, rssBytes), expected));
  }
});

test('a sweep: never an overrun outside "watched", never a hard ceiling outside its grace period, counts never negative', () => {
  for (const watch of ['watched', 'stopping-for-overrun', 'not-judged'] as const) {
    for (let samplesOver = 0; samplesOver < 5; samplesOver++) {
      for (let rss = 0; rss <= 400; rss += 7) {
        const judged = judgeSample(debounced, watch, samplesOver, rss);
        assert.ok(judged.samplesOver >= 0);
        if (judged.verdict === 'overrun') assert.equal(watch, 'watched');
        if (judged.verdict === 'hard-ceiling') assert.ok(watch === 'stopping-for-overrun' && rss > 150);
      }
    }
  }
});
