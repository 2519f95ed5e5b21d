// angel's signal semantics on a real process (this test's own): the listeners only ask, and SIGHUPs that
// arrive before the reload is served are one config re-read and one reload.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveOptions } from '../../src/core/options.js';
import type { ReadyEvent, StartEvent } from '../../src/core/types.js';
import { createSupervisor } from '../../src/driver/assemble.js';
import { installSignalHandlers } from '../../src/face/signals.js';

test('three SIGHUPs in one turn are one config re-read, on a later turn, and one new generation', async () => {
  const supervisor = createSupervisor(resolveOptions({ program: 'sleep', args: ['100'] }), null);
  let rereads = 0;
  const uninstall = installSignalHandlers(supervisor, { beforeReload: () => ++rereads > 0 });
  const starts: StartEvent[] = [];
  supervisor.on('start', (event) => starts.push(event));
  const first = new Promise((resolve) => supervisor.once('ready', resolve));
  supervisor.start();
  await first;
  // each kill is delivered before it returns (a signal to oneself): Node's listener runs three times
  let heard = 0;
  const count = (): void => void heard++;
  process.on('SIGHUP', count);
  for (let i = 0; i < 3; i++) process.kill(process.pid, 'SIGHUP');
  const ready = await new Promise<ReadyEvent>((resolve) => supervisor.on('ready', (event) => { if (event.generation === 1) resolve(event); }));
  process.off('SIGHUP', count);
  assert.equal(ready.generation, 1);
  assert.ok(heard >= 1);
  assert.equal(rereads, 1, `${heard} SIGHUPs heard, the config read once`);
  supervisor.stop();
  assert.equal(await supervisor.done, 143);
  uninstall();
  assert.deepEqual(starts.map((start) => start.generation), [0, 1]);
});
