// No process outlives angel: the child gets a parent-death signal, so a SIGKILL of angel itself (which no
// handler sees) leaves nothing running and nothing holding angel's sockets.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { AngelRun, fixture } from '../helpers/events.js';
import { freePort } from '../../support/net.js';
import { gone } from '../helpers/proc.js';
import { scratchDir } from '../helpers/cleanup.js';

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

test('SIGUSR1 with --log-file reopens the log and is not forwarded: a Node child opens no inspector, a shell child lives on', async () => {
  const dir = scratchDir('angel-usr1-');
  chmodSync(dir, 0o755);
  const log = join(dir, 'out.log');
  const child = "process.on('SIGUSR2', () => console.log('usr2')); console.log('up'); setInterval(() => {}, 1000)";
  const run = new AngelRun(['--log-file', log, '--', process.execPath, '-e', child]);
  await run.event('start');
  await until(() => existsSync(log) && readFileSync(log, 'utf8').includes('up'));
  run.signal('SIGUSR1');
  // USR2 is forwarded: once the child has it, angel has handled the USR1 sent before it
  run.signal('SIGUSR2');
  await until(() => readFileSync(log, 'utf8').includes('usr2'));
  const inspector = await new Promise<string>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: 9229 });
    socket.once('connect', () => (socket.destroy(), resolve('listening')));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
  assert.equal(inspector, 'ECONNREFUSED', 'no V8 inspector was opened in the child');
  run.signal('SIGTERM');
  assert.equal(await run.status(), 143, 'the Node child ended by SIGTERM, not earlier');

  const shell = new AngelRun(['--log-file', join(dir, 'sh.log'), '--', 'sh', '-c', 'trap "echo usr2" USR2; echo up; while :; do sleep 0.05; done']);
  await until(() => existsSync(join(dir, 'sh.log')) && readFileSync(join(dir, 'sh.log'), 'utf8').includes('up'));
  shell.signal('SIGUSR1');
  shell.signal('SIGUSR2');
  await until(() => readFileSync(join(dir, 'sh.log'), 'utf8').includes('usr2'));
  shell.signal('SIGTERM');
  assert.equal(await shell.status(), 143, 'the shell lived until SIGTERM (SIGUSR1 would have ended it with 138)');
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
