// Whose an orphan is, row by row: session, the environment it started with, the last tree, its start time, the
// current generation; an ended generation's is a leftover; what is remembered; when a tree changed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENDED_REMEMBERED, familyOf, fateOf, remember, treeChanged, type Family, type Orphan } from '../../src/core/orphans.js';

const family = (number: number, extra: Partial<Family> = {}): Family => ({ number, leader: 100 + number, lastTree: [], startTick: 1000 * (number + 1), ended: false, ...extra });
const orphan = (extra: Partial<Orphan> = {}): Orphan => ({ pid: 500, session: 500, startTick: null, generation: null, ...extra });

test('familyOf: session, then ANGEL_GENERATION, then the last tree, then the start time, then the current one', () => {
  const families = [family(0, { ended: true }), family(1, { lastTree: [101, 500] }), family(2)];
  const rows: Array<[string, Orphan, number | null, number | null]> = [
    ['in generation 2\'s session', orphan({ session: 102, generation: 0 }), 1, 2],
    ['its environment names generation 0', orphan({ generation: 0 }), 2, 0],
    ['an environment naming no known generation counts for nothing', orphan({ pid: 900, generation: 7 }), 2, 2],
    ['in generation 1\'s last tree', orphan(), 2, 1],
    ['started after generation 1, before generation 2: generation 1\'s', orphan({ pid: 900, startTick: 2500 }), 2, 1],
    ['started in the same tick as generation 0: generation 0\'s', orphan({ pid: 900, startTick: 1000 }), 2, 0],
    ['started before every generation: the current one', orphan({ pid: 900, startTick: 10 }), 2, 2],
    ['nothing known: the current one', orphan({ pid: 900 }), 2, 2],
    ['nothing known and nothing runs', orphan({ pid: 900 }), null, null],
  ];
  for (const [what, input, current, expected] of rows) assert.equal(familyOf(input, families, current), expected, what);
});

test('fateOf: a living generation adopts; an ended one\'s is a leftover; none, a leftover of no one', () => {
  const families = [family(0, { ended: true }), family(1)];
  assert.deepEqual(fateOf(orphan({ session: 100 }), families, 1), { leftover: 0 });
  assert.deepEqual(fateOf(orphan({ session: 101 }), families, 1), { adopt: 1 });
  assert.deepEqual(fateOf(orphan({ pid: 900 }), [], null), { leftover: null });
});

test('remember: a family updated in place; past ENDED_REMEMBERED ended ones the oldest are forgotten, never a living one', () => {
  let families: Family[] = [family(0)];
  families = remember(families, family(0, { ended: true }));
  assert.deepEqual(families, [family(0, { ended: true })]);
  for (let number = 1; number <= ENDED_REMEMBERED + 5; number++) families = remember(families, family(number, { ended: number !== ENDED_REMEMBERED + 5 }));
  assert.equal(families.filter((each) => each.ended).length, ENDED_REMEMBERED);
  assert.equal(families.some((each) => each.number === 0), false, 'the oldest ended went first');
  assert.equal(families.some((each) => each.number === ENDED_REMEMBERED + 5 && !each.ended), true, 'the living one stays');
});

test('remember keeps what the rule says over a long run of ends and updates: the same list as the rule written as filters', () => {
  // the rule as it reads: everything but the updated family, then it; of the ended ones, the oldest past the limit go
  const byFilters = (families: readonly Family[], ended: Family): Family[] => {
    const all = [...families.filter((each) => each.number !== ended.number), ended];
    const endedOnes = all.filter((each) => each.ended);
    const drop = new Set(endedOnes.slice(0, Math.max(0, endedOnes.length - ENDED_REMEMBERED)).map((each) => each.number));
    return all.filter((each) => !drop.has(each.number));
  };
  let seed = 7;
  const random = (below: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % below;
  let families: Family[] = [];
  for (let step = 0; step < 2000; step++) {
    const next = family(random(150), { ended: random(4) !== 0 });
    const expected = byFilters(families, next);
    families = remember(families, next);
    assert.deepEqual(families, expected, `step ${step}`);
  }
  assert.ok(families.filter((each) => each.ended).length <= ENDED_REMEMBERED);
});

test('treeChanged: another set of processes, not the same one in another order', () => {
  assert.equal(treeChanged([1, 2, 3], [3, 2, 1]), false);
  assert.equal(treeChanged([1, 2, 3], [1, 2]), true);
  assert.equal(treeChanged([1, 2], [1, 3]), true);
  assert.equal(treeChanged([], []), false);
  // the old hash (the sum of the pids, plus their count times 2^22) called these the same
  assert.equal(treeChanged([10, 20], [15, 15]), true);
});
