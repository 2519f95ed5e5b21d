// The one-line server of the control socket (kernel/lineserver.ts), with the real addon and real unix sockets:
// every client gets the line made for its wake and an end of file; many at once are all answered; closed, the
// socket answers no one; a failed accept is told by its errno name and pauses the watch instead of spinning.
import assert from 'node:assert/strict';
import { closeSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { serveLine } from '../../src/kernel/lineserver.js';
import { bindUnix } from '../../src/kernel/sockets.js';
import { pipe } from '../../src/kernel/syscalls.js';
import { atTestEnd, scratchDir } from '../helpers/cleanup.js';

const scratch = scratchDir('angel-lineserver-');
let made = 0;

/** What a client connected to `path` reads to the end, or its error's code. */
function ask(path: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(path);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`));
  });
}

function listening(): { path: string; fd: number } {
  const path = join(scratch, `line-${made++}.sock`);
  return { path, fd: bindUnix(path, 0o600, 'test', null).fd };
}

test('each client gets the line made for it, then the end; 50 at once are all answered', async () => {
  const { path, fd } = listening();
  let asked = 0;
  const server = serveLine(fd, () => `{"n":${++asked}}\n`, (code) => assert.fail(code));
  atTestEnd(() => server.close());
  assert.equal(await ask(path), '{"n":1}\n');
  const answers = await Promise.all(Array.from({ length: 50 }, () => ask(path)));
  for (const answer of answers) assert.match(answer, /^\{"n":\d+\}\n$/);
  assert.ok(asked >= 2 && asked <= 51, `${asked} lines made: one per wake, not per client`);
});

test('closed, the socket answers no one: its fd is closed, a connect is refused', async () => {
  const { path, fd } = listening();
  const server = serveLine(fd, () => 'hello\n', (code) => assert.fail(code));
  assert.equal(await ask(path), 'hello\n');
  server.close();
  server.close(); // twice is once
  assert.equal(await ask(path), 'error ECONNREFUSED');
});

test('a failed accept is told by its errno name once a streak, and the watch pauses instead of waking again at once', async () => {
  // a pipe with a byte in it: always readable to poll, as a connection angel cannot accept (EMFILE) would keep
  // the socket, and accept fails on it (ENOTSOCK)
  const [readEnd, writeEnd] = pipe();
  writeSync(writeEnd, 'x');
  atTestEnd(() => closeSync(writeEnd));
  const errors: string[] = [];
  let wakes = 0;
  const server = serveLine(readEnd, () => {
    wakes++;
    return 'never sent\n';
  }, (code) => errors.push(code));
  atTestEnd(() => server.close());
  const deadline = Date.now() + 10_000;
  while (errors.length === 0 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
  // a few hundred turns of the loop later, still the one: the watch is paused, not spinning
  for (let turn = 0; turn < 300; turn++) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(errors, ['ENOTSOCK']);
  // past the pause the watch is back and fails again (its wakes are counted through line()), and the streak is
  // not told again
  const woken = wakes;
  while (wakes === woken && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(wakes > woken, 'the watch resumed after its pause');
  assert.deepEqual(errors, ['ENOTSOCK']);
});
