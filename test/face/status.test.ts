// `angel status` against what may be no angel at all: a control socket or a /metrics that drips, floods or
// answers nonsense ends in one line within its deadline, and what a real angel's child said (STATUS=) reaches
// the terminal with its control characters escaped. The fake control socket is this test process's own: angel
// status finds it through /proc from the pid, as it finds an angel's.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { atTestEnd } from '../helpers/cleanup.js';
import { AngelRun, cliArgs, fixture } from '../helpers/events.js';

const scratch = mkdtempSync('/tmp/angel-status-test-');
atTestEnd(() => rmSync(scratch, { recursive: true, force: true }));

/** `angel status ...args`: its status and both outputs, once it exits. */
function status(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, cliArgs('status', ...args));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('latin1').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('latin1').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** A control socket in this process, answering each connection with `answer`. */
async function fakeControl(name: string, answer: (connection: Socket) => void): Promise<Server> {
  const dir = join(scratch, `angel.${name}`);
  mkdirSync(dir);
  const server = createServer((connection) => {
    connection.on('error', () => {});
    answer(connection);
  });
  await new Promise<void>((resolve) => server.listen(join(dir, 'control.sock'), resolve));
  atTestEnd(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return server;
}

const oneLine = (stderr: string): void => {
  assert.equal(stderr.split('\n').length, 2, `one line: ${stderr}`);
  assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
};

// one fake control socket at a time: angel status finds this process's first
describe('angel status against what may be no angel', () => {
  test('a control socket that drips a byte at a time is cut off at the deadline: one line, status 1', async () => {
    const drips = new Set<NodeJS.Timeout>();
    await fakeControl('drip', (connection) => {
      const timer = setInterval(() => connection.write('{'), 200);
      drips.add(timer);
      connection.on('close', () => clearInterval(timer));
    });
    atTestEnd(() => drips.forEach(clearInterval));
    const result = await status([String(process.pid)]);
    assert.equal(result.code, 1);
    oneLine(result.stderr);
    assert.match(result.stderr, /^angel: status: pid \d+ is no angel this user can reach \(.*control\.sock: ETIMEDOUT\)$/m);
  });

  test('a control socket that floods, or answers what is no report, is one line', async () => {
    await fakeControl('flood', (connection) => {
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const pour = (): void => {
        while (!connection.destroyed && connection.write(chunk)) {}
        if (!connection.destroyed) connection.once('drain', pour);
      };
      pour();
    });
    const flood = await status([String(process.pid)]);
    assert.equal(flood.code, 1);
    oneLine(flood.stderr);
    assert.match(flood.stderr, /an answer longer than 65536 bytes/);
  });

  for (const [what, text, expected] of [
    ['not JSON', 'garbage\n', /the answer is not JSON/],
    ['JSON of the wrong shape', '{"angelPid": "1", "program": []}\n', /the answer's angelPid is missing or of the wrong type/],
    ['JSON null', 'null\n', /the answer's report is missing/],
  ] as const) {
    test(`a control socket answering ${what} is one line`, async () => {
      await fakeControl(`bad-${what.replace(/\W/g, '')}`, (connection) => connection.end(text));
      const result = await status([String(process.pid)]);
      assert.equal(result.code, 1);
      oneLine(result.stderr);
      assert.match(result.stderr, expected);
    });
  }

  test('a /metrics that never ends its answer is cut off at the deadline: one line', async () => {
    const server = createHttpServer((_request, response) => {
      response.writeHead(200);
      const timer = setInterval(() => response.write('# drip\n'), 200);
      response.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    atTestEnd(() => {
      server.closeAllConnections();
      server.close();
    });
    const { port } = server.address() as { port: number };
    const result = await status(['--metrics', `127.0.0.1:${port}`]);
    assert.equal(result.code, 1);
    oneLine(result.stderr);
    assert.match(result.stderr, /^angel: status: 127\.0\.0\.1:\d+\/metrics: ETIMEDOUT\n$/);
  });

  test('a child\'s STATUS= with escape sequences reaches angel status, the metrics and the log escaped', async () => {
    const run = new AngelRun(['--ready', 'notify', '--metrics', '127.0.0.1:0', '--', fixture('notifier'), 'send:READY=1\\nSTATUS=\x1b]0;pwned\x07\x9b31mred', 'hang']);
    const listening = await run.event('listening');
    await run.event('ready');
    const text = await status([String(run.process.pid)]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^status {6}\\u001b\]0;pwned\\u0007\\u009b31mred$/m);
    assert.doesNotMatch(text.stdout, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/, 'no control character printed');
    const json = await status([String(run.process.pid), '--json']);
    assert.doesNotMatch(json.stdout, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    const metrics = await status(['--metrics', listening.address as string]);
    assert.doesNotMatch(metrics.stdout, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    run.signal('SIGTERM');
    await run.status();
    assert.ok(run.stderrText.every((line) => !/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(line)), 'the event log prints none either');
  });
});
