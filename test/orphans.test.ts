// No process outlives angel: the child gets a parent-death signal, so a SIGKILL of angel itself (which no
// handler sees) leaves nothing running and nothing holding angel's sockets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AngelRun, fixture } from './helpers/events.js';
import { freePort } from '../support/net.js';
import { gone } from './helpers/proc.js';

test('kill -9 of angel: the child is gone within a second, and a new angel binds the same --listen address', async () => {
  const port = await freePort();
  const args = ['--listen', `127.0.0.1:${port}`, '--', fixture('trapper'), 'ignore'];
  const first = new AngelRun(args);
  const child = Number((await first.event('start')).pid);
  await first.line(/^ready /);
  first.signal('SIGKILL');
  await first.exited;
  assert.equal(await gone(child, 1000), true, 'the child died with angel (it ignores SIGTERM: only the parent-death SIGKILL ends it)');
  const second = new AngelRun(args);
  await second.line(/^ready /);
  second.signal('SIGINT');
  second.signal('SIGINT');
  assert.equal(await second.status(), 137);
  assert.equal(second.events.items.some((event) => event.event === 'spawn-error'), false);
});

test('--parent-death-signal chooses the signal: a child that handles SIGTERM reports it and exits', async () => {
  const first = new AngelRun(['--parent-death-signal', 'SIGTERM', '--', fixture('trapper'), '7']);
  const child = Number((await first.event('start')).pid);
  await first.line(/^ready /);
  first.signal('SIGKILL');
  await first.exited;
  assert.equal(await gone(child, 2000), true);
});
