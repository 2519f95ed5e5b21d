// sd_notify from the child: --ready notify and --watchdog with real datagrams from a C child and from a Node
// child (through the helper it keeps beside it), each generation's socket its own, and senders outside the
// generation's tree refused by their kernel-vouched pid.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { AngelRun, fixture, fixtureSource } from '../helpers/events.js';
import { freePort } from '../../support/net.js';
import { scratchDir } from '../helpers/cleanup.js';

const nodeChild = fixtureSource('notify-node.mjs');
const scratch = scratchDir('angel-notify-');

/** The child's first line: `env pid=N NOTIFY_SOCKET=… WATCHDOG_USEC=… WATCHDOG_PID=…` (- when unset). */
async function childEnv(run: AngelRun, from = 0): Promise<Record<string, string>> {
  const line = await run.stdout.waitFor((text) => text.startsWith('env '), 'the child\'s env line', 10_000, from);
  return Object.fromEntries(line.slice(4).split(' ').map((pair) => pair.split('=', 2) as [string, string]));
}

/** Sends one datagram to `address` from a process outside any generation (this test's own child). */
function sendFromOutside(address: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sender = spawn(fixture('notify-send'), [], { env: { NOTIFY_SOCKET: address }, stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: sender.stdout }).once('line', (ack) => {
      sender.stdin.end();
      resolve(ack);
    });
    sender.on('error', reject);
    sender.stdin.write(`${text}\n`);
  });
}

test('--ready notify, a C child: ready when it sends READY=1, not at exec; its own socket, 0600 in a 0700 directory, removed with it', async () => {
  const go = join(scratch, 'c-go-');
  const run = new AngelRun(['--ready', 'notify', '--log-level', 'debug', '--', fixture('notifier'), `wait-file:${go}%g`, 'send:READY=1\\nSTATUS=serving', 'hang']);
  try {
    const env = await childEnv(run);
    // this angel's instance in the runtime base, named to be unique across PID namespaces
    assert.match(env.NOTIFY_SOCKET ?? '', /^\/run\/angel\/angel\.[0-9a-f]{16}\/notify\.0\/0$/);
    assert.equal(env.WATCHDOG_USEC, '-', 'no watchdog without --watchdog');
    const socket = statSync(env.NOTIFY_SOCKET as string);
    assert.ok(socket.isSocket());
    assert.equal(socket.mode & 0o777, 0o600);
    assert.equal(statSync(dirname(env.NOTIFY_SOCKET as string)).mode & 0o777, 0o700);
    await run.line(/^waiting /);
    await run.event('start');
    assert.equal(run.seenSoFar('ready'), 0, 'exec is not ready');
    writeFileSync(`${go}0`, '');
    const ready = await run.event('ready');
    assert.equal(ready.generation, 0);
    const notified = await run.event('notify', (event) => event.ready === true);
    assert.equal(notified.status, 'serving');
    run.signal('SIGTERM');
    assert.equal(await run.status(), 143);
    assert.equal(existsSync(dirname(env.NOTIFY_SOCKET as string)), false, 'the socket directory is gone with angel');
  } finally {
    run.kill();
  }
});

test('--ready notify, a Node child through its helper: READY=1 and STATUS=; with --watchdog its pings keep it, and when they stop it is restarted with reason watchdog', async () => {
  const run = new AngelRun(['--ready', 'notify', '--watchdog', '1000', '--log-level', 'debug', '--', process.execPath, nodeChild, fixture('notify-send'), 'stop-pinging-after', '3']);
  try {
    const env = await childEnv(run);
    assert.equal(env.WATCHDOG_USEC, '1000000');
    const ready = await run.event('ready');
    assert.equal(env.WATCHDOG_PID, String(ready.pid), 'WATCHDOG_PID is the child\'s own pid');
    const status = await run.event('notify', (event) => typeof event.status === 'string' && String(event.status).startsWith('serving'));
    assert.equal(status.status, `serving from node ${ready.pid}`);
    await run.line(/^hanging after 3 pings/);
    const miss = await run.event('watchdog');
    assert.equal(miss.pid, ready.pid);
    assert.equal(miss.periodMs, 1000);
    const exit = await run.event('exit');
    assert.equal(exit.reason, 'watchdog');
    assert.equal(exit.code, 0, 'it took the stop signal (its SIGTERM handler exits 0)');
    // three pings 500 ms apart kept it alive past one period
    assert.ok((exit.uptimeMs as number) >= 1500, `uptime ${exit.uptimeMs} ms`);
    await run.event('ready', (event) => event.generation === 1);
    run.signal('SIGTERM');
    await run.status();
  } finally {
    run.kill();
  }
});

test('--watchdog, a C child: pings every 50 ms keep a 300 ms watchdog, then a hang is stopped and restarted; WATCHDOG=trigger is a hang at once', async () => {
  const run = new AngelRun(['--ready', 'notify', '--watchdog', '300', '--', fixture('notifier'), 'send:READY=1', 'ping:50:12', 'send:STATUS=hung', 'hang']);
  try {
    const env = await childEnv(run);
    const exit = await run.event('exit');
    assert.equal(exit.reason, 'watchdog');
    assert.equal(String(exit.pid), env.WATCHDOG_PID);
    assert.ok((exit.uptimeMs as number) >= 600, `pinged for 600 ms: uptime ${exit.uptimeMs} ms`);
    await run.event('start', (event) => event.generation === 1);
    run.signal('SIGTERM');
    await run.status();
  } finally {
    run.kill();
  }
  const triggered = new AngelRun(['--ready', 'notify', '--watchdog', '60000', '--', fixture('notifier'), 'send:READY=1', 'send:WATCHDOG=trigger', 'hang']);
  try {
    const miss = await triggered.event('watchdog');
    assert.equal(miss.triggered, true);
    assert.equal((await triggered.event('exit')).reason, 'watchdog');
    triggered.signal('SIGTERM');
    await triggered.status();
  } finally {
    triggered.kill();
  }
});

test('a message from outside the generation\'s tree is ignored: READY=1 from another process does not make the child ready', async () => {
  const go = join(scratch, 'outside-go-');
  const run = new AngelRun(['--ready', 'notify', '--', fixture('notifier'), `wait-file:${go}%g`, 'send:READY=1', 'hang']);
  try {
    const env = await childEnv(run);
    await run.line(/^waiting /);
    assert.equal(await sendFromOutside(env.NOTIFY_SOCKET as string, 'READY=1'), 'sent');
    const warning = await run.event('warning', (event) => /NOTIFY_SOCKET/.test(String(event.message)));
    assert.match(String(warning.message), /pid \d+ is not of generation 0's processes/);
    assert.equal(run.seenSoFar('ready'), 0, 'not ready on a stranger\'s word');
    writeFileSync(`${go}0`, '');
    assert.equal((await run.event('ready')).generation, 0);
    run.signal('SIGTERM');
    await run.status();
  } finally {
    run.kill();
  }
});

test('an overlapping reload with --ready notify: the next generation is ready when it says so, and only then is the old one stopped', async () => {
  const go = join(scratch, 'reload-go-');
  const port = await freePort();
  const run = new AngelRun(['--listen', `127.0.0.1:${port}`, '--ready', 'notify', '--', fixture('notifier'), `wait-file:${go}%g`, 'send:READY=1', 'hang']);
  try {
    writeFileSync(`${go}0`, '');
    await run.event('ready');
    run.signal('SIGHUP');
    const next = await run.event('start', (event) => event.generation === 1);
    const env = await childEnv(run, run.stdout.items.findIndex((line) => line.startsWith(`env pid=${next.pid} `)));
    assert.match(env.NOTIFY_SOCKET ?? '', /\/1$/, 'generation 1 has a socket of its own');
    await run.stdout.waitFor((line) => line === `waiting ${go}1`, 'generation 1 waiting', 10_000);
    assert.equal(run.seenSoFar('exit'), 0, 'the current one serves while the next warms up');
    assert.equal(run.seenSoFar('ready'), 1);
    writeFileSync(`${go}1`, '');
    assert.equal((await run.event('ready', (event) => event.generation === 1)).pid, next.pid);
    const old = await run.event('exit');
    assert.equal(old.generation, 0);
    assert.equal(old.reason, 'reload');
    run.signal('SIGTERM');
    assert.equal(await run.status(), 143);
  } finally {
    run.kill();
  }
});
