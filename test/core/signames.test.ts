// The signal table (core/signames.ts) against Node's own for this platform, name by name and number by number.
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { test } from 'node:test';
import { signalName, signalNumber } from '../../src/core/signames.js';

const nodes = constants.signals as Readonly<Record<string, number>>;

test('every signal Node knows has its number, and every number its name, in the table', () => {
  for (const [name, number] of Object.entries(nodes)) {
    assert.equal(signalNumber(name as NodeJS.Signals), number, name);
    const named = signalName(number);
    assert.ok(named !== undefined && nodes[named] === number, `${number} named ${named}`);
  }
});

test('every number from 1 to 31 has a name, one Node gives that number; the real-time signals and SIGUNUSED have none', () => {
  for (let number = 1; number <= 31; number++) {
    const name = signalName(number);
    assert.ok(name !== undefined, `${number} has a name`);
    assert.equal(nodes[name], number, name);
  }
  assert.equal(signalName(32), undefined, 'the real-time signals have no name');
  assert.throws(() => signalNumber('SIGUNUSED' as NodeJS.Signals), /unknown signal SIGUNUSED/);
});
