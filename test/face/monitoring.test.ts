// What the service managers and operators see of a running angel: sd_notify to angel's own manager (a fake
// NOTIFY_SOCKET: a datagram socket this test owns, read by the notify-recv fixture), /metrics held to the strict
// exposition parser, and `angel status` by pid and by metrics address.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { parseExposition, sampleValue, type Family } from '../../src/core/exposition.js';
import { AngelRun, cliArgs, fixture } from '../helpers/events.js';
import { freePort } from '../../support/net.js';
import { scratchDir } from '../helpers/cleanup.js';

const scratch = scratchDir('angel-monitoring-');

/** A fake service manager: notify-recv bound at `address`; its lines are `pid N TEXT` (newlines as \n). */
async function fakeManager(address: string): Promise<{ lines: string[]; waitFor: (pattern: RegExp) => Promise<string>; stop: () => void }> {
  const receiver = spawn(fixture('notify-recv'), [address], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const input = createInterface({ input: receiver.stdout });
  await new Promise<void>((resolve) => input.once('line', () => resolve()));
  input.on('line', (line) => {
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  const waitFor = (pattern: RegExp): Promise<string> => {
    const seen = lines.find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} from angel; got:\n${lines.join('\n')}`)), 10_000);
      waiters.push({ pattern, resolve: (line) => (clearTimeout(timer), resolve(line)) });
    });
  };
  return { lines, waitFor, stop: () => receiver.kill('SIGKILL') };
}

test('angel under a fake NOTIFY_SOCKET: READY=1, RELOADING=1 … READY=1, STOPPING=1 in order, from angel\'s pid, with STATUS= and its watchdog pings; the child sees none of it', async () => {
  const path = join(scratch, 'manager.sock');
  const manager = await fakeManager(path);
  const run = new AngelRun(['--max-mem', '1G', '--', fixture('notifier'), 'hang'], { env: { ...process.env, NOTIFY_SOCKET: path, WATCHDOG_USEC: '200000' } });
  try {
    const angel = String(run.process.pid);
    const ready = await manager.waitFor(/READY=1/);
    assert.match(ready, new RegExp(`^pid ${angel} READY=1\\\\nMAINPID=${angel}\\\\nSTATUS=generation 0, pid \\d+, [\\d.]+ MiB of 1024\\.0 MiB$`));
    assert.match(await run.line(/^env /), /NOTIFY_SOCKET=- WATCHDOG_USEC=- WATCHDOG_PID=-$/, 'angel\'s own socket and watchdog are not the child\'s');
    await manager.waitFor(/WATCHDOG=1/);
    run.signal('SIGHUP');
    await run.event('ready', (event) => event.generation === 1);
    await manager.waitFor(/READY=1\\nSTATUS=generation 1/);
    run.signal('SIGTERM');
    assert.equal(await run.status(), 143);
    await manager.waitFor(/STOPPING=1/);
    const words = manager.lines.map((line) => /(READY|RELOADING|STOPPING)=1/.exec(line)?.[1]).filter(Boolean);
    assert.deepEqual(words, ['READY', 'RELOADING', 'READY', 'STOPPING']);
    assert.ok(manager.lines.every((line) => line.startsWith(`pid ${angel} `)), 'every message from angel itself (NotifyAccess=main)');
    assert.match(manager.lines.find((line) => /RELOADING=1/.test(line)) ?? '', /RELOADING=1\\nMONOTONIC_USEC=\d+/);
    assert.ok(manager.lines.filter((line) => /WATCHDOG=1/.test(line)).length >= 1);
  } finally {
    run.kill();
    manager.stop();
  }
});

test('angel under an abstract NOTIFY_SOCKET (@name): READY=1 once the child is, STOPPING=1 at the end', async () => {
  const address = `@angel-test-${process.pid}`;
  const manager = await fakeManager(address);
  const run = new AngelRun(['--', fixture('notifier'), 'hang'], { env: { ...process.env, NOTIFY_SOCKET: address } });
  try {
    await manager.waitFor(/READY=1/);
    run.signal('SIGINT');
    await run.status();
    await manager.waitFor(/STOPPING=1/);
  } finally {
    run.kill();
    manager.stop();
  }
});

function get(target: { host?: string; port?: number; socketPath?: string }, path = '/metrics'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...target, path }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function scrape(address: string): Promise<Family[]> {
  const [host, port] = address.split(':');
  const response = await get({ host, port: Number(port) });
  assert.equal(response.status, 200);
  assert.match(response.type, /^text\/plain; version=0\.0\.4/);
  return parseExposition(response.body);
}

test('--metrics on 127.0.0.1 by default: the exposition parses strictly, with the child\'s memory, cap, generation, readiness, restarts by reason and the latency histogram', async () => {
  const run = new AngelRun(['--metrics', '0', '--max-mem', '1G', '--max-restart-delay', '0', '--', fixture('notifier'), 'hang']);
  try {
    const { address } = await run.event('listening');
    assert.match(String(address), /^127\.0\.0\.1:\d+$/, 'loopback unless the address names a host');
    const first = await run.event('ready');
    let families = await scrape(String(address));
    const value = (name: string, labels?: Record<string, string>) => sampleValue(families, name, labels);
    assert.equal(value('angel_generation'), 0);
    assert.equal(value('angel_child_ready'), 1);
    assert.equal(value('angel_child_pid'), first.pid);
    assert.equal(value('angel_memory_cap_bytes'), 2 ** 30);
    assert.ok((value('angel_child_resident_memory_bytes') ?? 0) > 0, 'the tree\'s RSS');
    assert.ok((value('process_resident_memory_bytes') ?? 0) > 0, 'angel\'s own process');
    assert.ok(families.some((family) => family.name === 'nodejs_eventloop_lag_max_seconds'), 'angel\'s event loop lag, sampled once a second');
    const served = new Set(families.map((family) => family.name));
    for (const name of ['process_cpu_seconds_total', 'process_open_fds', 'process_max_fds', 'process_start_time_seconds', 'process_virtual_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_version_info']) {
      assert.ok(served.has(name), `angel's own ${name}`);
    }
    for (const name of ['nodejs_gc_duration_seconds', 'nodejs_heap_space_size_used_bytes', 'nodejs_active_handles']) {
      assert.ok(!served.has(name), `not prom-client's ${name}: Node's more than angel's, and some two fifths of a scrape's CPU`);
    }
    assert.equal(families.find((family) => family.name === 'angel_restart_latency_seconds')?.type, 'histogram');
    process.kill(first.pid as number, 'SIGKILL');
    await run.event('ready', (event) => event.generation === 1);
    families = await scrape(String(address));
    assert.equal(value('angel_generation'), 1);
    assert.equal(value('angel_restarts_total', { reason: 'crash' }), 1);
    assert.equal(value('angel_child_exits_total', { reason: 'crash' }), 1);
    assert.equal(value('angel_restart_latency_seconds_count'), 1);
    assert.equal(value('angel_restart_latency_seconds_bucket', { le: '+Inf' }), 1);
    const [host, port] = String(address).split(':');
    assert.equal((await get({ host, port: Number(port) }, '/')).status, 404);
    run.signal('SIGTERM');
    await run.status();
  } finally {
    run.kill();
  }
});

test('--metrics unix:/path, and `angel status` by pid and by metrics address, as text and --json', async () => {
  const socket = join(scratch, 'metrics.sock');
  const run = new AngelRun(['--metrics', `unix:${socket}`, '--ready', 'notify', '--max-mem', '512M', '--', fixture('notifier'), 'send:READY=1\\nSTATUS=all good', 'hang']);
  try {
    await run.event('listening');
    const ready = await run.event('ready');
    await run.event('start');
    const families = parseExposition((await get({ socketPath: socket })).body);
    assert.equal(sampleValue(families, 'angel_child_status_info', { status: 'all good' }), 1);
    const angel = String(run.process.pid);
    // the control socket answers once the child's STATUS= has come
    let text = '';
    for (const deadline = Date.now() + 5000; !/all good/.test(text) && Date.now() < deadline;) {
      text = spawnSync(process.execPath, cliArgs('status', angel), { encoding: 'utf8' }).stdout;
    }
    assert.match(text, new RegExp(`^angel ${angel} \\(0\\.1\\.0\\), up \\d+s, running\\n`));
    assert.match(text, new RegExp(`\\ngeneration  0, pid ${ready.pid}, ready, up \\d+s\\n`));
    assert.match(text, /\nmemory      [\d.]+ MiB, cap 512\.0 MiB \(\d+%\)\n/);
    assert.match(text, /\nstatus      all good\n$/);
    const json = JSON.parse(spawnSync(process.execPath, cliArgs('status', angel, '--json'), { encoding: 'utf8' }).stdout);
    assert.equal(json.childPid, ready.pid);
    assert.equal(json.capBytes, 512 * 2 ** 20);
    assert.equal(json.status, 'all good');
    const viaMetrics = JSON.parse(spawnSync(process.execPath, cliArgs('status', '--metrics', `unix:${socket}`, '--json'), { encoding: 'utf8' }).stdout);
    for (const key of ['angelPid', 'generation', 'childPid', 'capBytes', 'ready', 'status', 'restarts'] as const) assert.deepEqual(viaMetrics[key], json[key], key);
    run.signal('SIGTERM');
    await run.status();
  } finally {
    run.kill();
  }
});

test('angel status: a pid that is no angel is exit 1 in one line; no target, or a --metrics address that is a --listen socket, is exit 2', async () => {
  const notAngel = spawnSync(process.execPath, cliArgs('status', String(process.pid)), { encoding: 'utf8' });
  assert.equal(notAngel.status, 1);
  assert.match(notAngel.stderr, new RegExp(`^angel: status: pid ${process.pid} is no angel this user can reach \\(.*ENOENT.*\\)\\n$`));
  const none = spawnSync(process.execPath, cliArgs('status'), { encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^angel: status: expected a pid or --metrics <addr>, one of the two, got null\n$/);
  const port = await freePort();
  const clash = spawnSync(process.execPath, cliArgs('--listen', `127.0.0.1:${port}`, '--metrics', String(port), '--', 'true'), { encoding: 'utf8' });
  assert.equal(clash.status, 2);
  assert.match(clash.stderr, new RegExp(`^angel: --metrics: expected an address that is not one of the --listen sockets, got "127\\.0\\.0\\.1:${port}"\\n$`));
});
