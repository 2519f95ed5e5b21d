// Held sockets, readiness and zero-downtime reload, with real sockets on loopback.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AngelRun, fixture, fixtureSource } from '../helpers/events.js';
import { freePort } from '../../support/net.js';
import { loadDuring } from '../../support/load.js';
import { scratchDir } from '../helpers/cleanup.js';

const server = fixtureSource('http-server.mjs');
const scratch = scratchDir('angel-sockets-');


describe('held sockets', () => {
  test('10 SIGHUP reloads under load: zero failed requests, every generation served', async (t) => {
    const port = await freePort();
    const run = new AngelRun(['--listen', `127.0.0.1:${port}`, '--ready', 'fd', '--', process.execPath, server]);
    await run.event('ready');
    const load = loadDuring(t, run, port);
    // the new generation answers a few before the next reload
    await run.reloads(10, () => load.answered(5));
    const result = await load.stop();
    run.signal('SIGTERM');
    assert.equal(await run.status(), 0);
    assert.equal(result.failed, 0, result.errors.join('; '));
    for (let generation = 0; generation <= 10; generation++) {
      assert.ok((result.generations.get(String(generation)) ?? 0) > 0, `generation ${generation} served: ${[...result.generations]}`);
    }
    const reasons = run.events.items.filter((event) => event.event === 'exit').map((event) => event.reason);
    assert.deepEqual(reasons.slice(0, 10), Array(10).fill('reload'));
  });

  test('a crash under load delays requests instead of refusing them', async (t) => {
    const port = await freePort();
    const run = new AngelRun(['--listen', `127.0.0.1:${port}`, '--ready', 'fd', '--', process.execPath, server]);
    const first = await run.event('ready');
    const load = loadDuring(t, run, port);
    await load.answered(20);
    process.kill(first.pid as number, 'SIGKILL');
    await run.event('ready', (event) => event.generation === 1);
    await load.answered(20);
    assert.ok((load.result.generations.get('1') ?? 0) > 0, 'the new generation served');
    const result = await load.stop();
    run.signal('SIGTERM');
    assert.equal(await run.status(), 0);
    // The one request inside the killed process when SIGKILL came is lost with it (reset); the client sends
    // one at a time, so at most one. Every request that arrived in the gap waited in the backlog: none refused.
    assert.ok(result.failed <= 1, result.errors.join('; '));
    for (const error of result.errors) assert.match(error, /ECONNRESET|socket hang up/);
    assert.equal(result.errors.some((error) => /ECONNREFUSED/.test(error)), false);
    assert.equal((await run.event('exit')).signal, 'SIGKILL');
    assert.equal((await run.event('restart')).generation, 1);
  });

  test('an overrun with held sockets is handled like a reload: the leaking server is replaced without a refused request', async (t) => {
    const port = await freePort();
    const run = new AngelRun(['--listen', `127.0.0.1:${port}`, '--ready', 'fd', '--max-mem', '120M', '--sample-interval', '20',
      '--env', 'LEAK_GENERATION=0', '--', process.execPath, server]);
    await run.event('ready');
    const load = loadDuring(t, run, port);
    const overrun = await run.event('overrun');
    assert.equal(overrun.generation, 0);
    const ready = await run.event('ready', (event) => event.generation === 1);
    const exit = await run.event('exit', (event) => event.generation === 0);
    assert.equal(exit.reason, 'overrun');
    assert.equal(exit.code, 0, 'stopped gracefully by SIGTERM, after its successor was ready');
    assert.ok(Date.parse(String(exit.time)) >= Date.parse(String(ready.time)), 'the successor was ready before the leaking one ended');
    await load.answered(20);
    const result = await load.stop();
    assert.equal(result.failed, 0, result.errors.join('; '));
    assert.ok((result.generations.get('1') ?? 0) > 0, 'the successor served');
    run.signal('SIGTERM');
    assert.equal(await run.status(), 0);
  });

  test('a next generation that crashes at start leaves the current one serving', async (t) => {
    const port = await freePort();
    const run = new AngelRun(['--listen', `127.0.0.1:${port}`, '--ready', 'fd', '--env', 'CRASH_GENERATION=1', '--', process.execPath, server]);
    await run.event('ready');
    const load = loadDuring(t, run, port);
    run.signal('SIGHUP');
    await run.event('warning', (event) => /next generation failed/.test(String(event.message)));
    await load.answered(20);
    const result = await load.stop();
    assert.equal(result.failed, 0, result.errors.join('; '));
    assert.deepEqual([...result.generations.keys()], ['0'], 'only generation 0 ever served');
    run.signal('SIGTERM');
    assert.equal(await run.status(), 0);
  });

  test('LISTEN_FDS counts the sockets, in order, with names; LISTEN_PID is the child; unix sockets are removed', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const socketPath = join(scratch, 'angel.sock');
    const run = new AngelRun(['--listen', `first=127.0.0.1:${a}`, '--listen', `unix:${socketPath}`, '--listen', `[::1]:${b}`,
      '--socket-mode', '0600', '--restart', 'never', '--',
      // exec: the program that lists its fds is the child itself, with no pipe of a shell pipeline beside them
      'sh', '-c', `echo "pid=$$ fds=$LISTEN_FDS pidvar=$LISTEN_PID names=$LISTEN_FDNAMES"; exec ${fixture('fd-list')} --targets`]);
    assert.equal(await run.status(), 0);
    const [summary, ...fds] = run.stdout.items;
    const [, pid, count, pidVar, names] = /^pid=(\d+) fds=(\d+) pidvar=(\d+) names=(.*)$/.exec(summary ?? '') ?? [];
    assert.equal(count, '3');
    assert.equal(pidVar, pid, 'LISTEN_PID is the child\'s own pid');
    assert.equal(names, 'first:listen1:listen2');
    const above2 = fds.filter((line) => Number(line.split(' ')[0]) > 2);
    assert.deepEqual(above2.map((line) => line.split(' ')[0]), ['3', '4', '5'], 'the sockets at 3, 4, 5 and nothing after them');
    for (const line of above2) assert.match(line, /^\d+ socket:\[\d+\]$/);
    assert.equal(existsSync(socketPath), false, 'the unix socket file is removed at shutdown');
  });

  test('the unix socket file has the asked mode while angel runs', async () => {
    const socketPath = join(scratch, 'mode.sock');
    const run = new AngelRun(['--listen', `unix:${socketPath}`, '--socket-mode', '0640', '--', 'sleep', '30']);
    await run.event('ready');
    assert.equal(statSync(socketPath).mode & 0o777, 0o640);
    assert.ok(statSync(socketPath).isSocket());
    run.signal('SIGTERM');
    assert.equal(await run.status(), 143);
  });

  test('--listen PORT binds both families ([::] with IPV6_V6ONLY off, as systemd\'s ListenStream=PORT): IPv4 and IPv6 requests reach the child', async () => {
    const port = await freePort();
    const run = new AngelRun(['--listen', String(port), '--ready', 'fd', '--', process.execPath, server]);
    await run.event('ready');
    for (const host of ['127.0.0.1', '[::1]']) {
      const response = await fetch(`http://${host}:${port}/`);
      assert.match(await response.text(), /^generation 0 /, host);
    }
    run.signal('SIGTERM');
    assert.equal(await run.status(), 0);
  });

  test('where the kernel has no IPv6 (socket(AF_INET6) answers EAFNOSUPPORT), --listen PORT binds 0.0.0.0', async () => {
    const port = await freePort();
    const run = new AngelRun(['--listen', String(port), '--ready', 'fd', '--', process.execPath, server], { prefix: [fixture('no-ipv6')] });
    await run.event('ready');
    const response = await fetch(`http://127.0.0.1:${port}/`);
    assert.match(await response.text(), /^generation 0 /);
    await assert.rejects(fetch(`http://[::1]:${port}/`), 'nothing listens on IPv6: the socket is IPv4\'s');
    run.signal('SIGTERM');
    assert.equal(await run.status(), 0);
  });

  test('a port in use is a one-line startup error naming the address and EADDRINUSE, exit 2', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as { port: number };
    const run = new AngelRun(['--listen', `127.0.0.1:${port}`, '--', 'true']);
    assert.equal(await run.status(), 2);
    busy.close();
    assert.equal(run.stderrText.length, 1);
    assert.match(run.stderrText[0] ?? '', new RegExp(`--listen.*bind: EADDRINUSE.*127\\.0\\.0\\.1:${port}`));
  });
});

describe('readiness', () => {
  test('--ready tcp:PORT waits until the port accepts; a child never ready is killed after --ready-timeout', async () => {
    const port = await freePort();
    const run = new AngelRun(['--ready', `tcp:${port}`, '--ready-timeout', '400', '--restart', 'never', '--', 'sleep', '30']);
    const warning = await run.event('warning', (event) => /not ready within 400 ms/.test(String(event.message)));
    assert.ok(warning);
    assert.equal(await run.status(), 137);
    assert.equal(run.count('ready'), 0);
  });

  test('--ready delay:MS counts the child started after the delay', async () => {
    const run = new AngelRun(['--ready', 'delay:150', '--restart', 'never', '--', 'sleep', '30']);
    const ready = await run.event('ready');
    assert.ok((ready.startLatencyMs as number) >= 150, `startLatencyMs ${String(ready.startLatencyMs)}`);
    run.signal('SIGTERM');
    assert.equal(await run.status(), 143);
  });
});
