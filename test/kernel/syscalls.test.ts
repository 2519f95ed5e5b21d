// The door to the addon (src/kernel/syscalls.ts) where it adds a call of its own: readAt, the tree sampler's
// pread, against real files and a real process that ends while its /proc file is open.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readAt } from '../../src/kernel/syscalls.js';
import { atTestEnd } from '../helpers/cleanup.js';

const scratch = mkdtempSync(join(tmpdir(), 'angel-syscalls-'));

test('readAt reads from a position into the buffer at an offset, and returns 0 at the end of the file', () => {
  const file = join(scratch, 'text');
  writeFileSync(file, 'hello world');
  const fd = openSync(file, 'r');
  atTestEnd(() => closeSync(fd));
  const buffer = Buffer.alloc(9, '.');
  assert.equal(readAt(fd, buffer, 2, 5, 6), 5);
  assert.equal(buffer.toString('latin1'), '..world..');
  assert.equal(readAt(fd, buffer, 0, 9, 11), 0);
});

test('readAt of a /proc file whose process has ended throws ESRCH, named as every call into C names its errno', async () => {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  const fd = openSync(`/proc/${child.pid}/status`, 'r');
  atTestEnd(() => closeSync(fd));
  const buffer = Buffer.alloc(4096);
  assert.ok(readAt(fd, buffer, 0, buffer.length, 0) > 0);
  const ended = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await ended; // reaped by Node: the pid is gone
  assert.throws(() => readAt(fd, buffer, 0, buffer.length, 0), (error: NodeJS.ErrnoException) => {
    assert.equal(error.code, 'ESRCH');
    assert.match(error.message, /^pread: ESRCH \(/);
    return true;
  });
});

test('readAt refuses a range outside its buffer, and a negative position, without reading', () => {
  const fd = openSync('/proc/self/status', 'r');
  atTestEnd(() => closeSync(fd));
  const buffer = Buffer.alloc(16);
  assert.throws(() => readAt(fd, buffer, 8, 9, 0), /^TypeError: readAt: expected an fd, a Buffer, an offset and a length within it/);
  assert.throws(() => readAt(fd, buffer, -1, 4, 0), TypeError);
  assert.throws(() => readAt(fd, buffer, 0, 4, -1), TypeError);
  assert.ok(buffer.every((byte) => byte === 0), 'nothing was read into the buffer');
});
