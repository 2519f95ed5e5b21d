// The door to the addon (src/kernel/syscalls.ts) where it adds calls of its own: readAt, the tree sampler's
// pread, against real files and a real process that ends while its /proc file is open; linkCount and pageSize,
// with which the sampler counts threads and reads statm.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { linkCount, pageSize, readAt } from '../../src/kernel/syscalls.js';
import { atTestEnd, scratchDir } from '../helpers/cleanup.js';

const scratch = scratchDir('angel-syscalls-');

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

test("linkCount of an open /proc/<pid>/task is 2 plus the process's threads, counted at each call", async () => {
  const threads = (): number => Number(/\nThreads:\t(\d+)/.exec(readFileSync('/proc/self/status', 'latin1'))?.[1]);
  const task = openSync('/proc/self/task', 'r');
  try {
    assert.equal(linkCount(task), 2 + threads());
    // one thread more while a worker runs
    const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
    await once(worker, 'online');
    const withWorker = threads();
    assert.equal(linkCount(task), 2 + withWorker);
    await worker.terminate();
    assert.ok(linkCount(task) < 2 + withWorker, 'the worker\'s thread is no longer counted');
  } finally {
    closeSync(task);
  }
  assert.throws(() => linkCount(task), { code: 'EBADF', syscall: 'fstat' });
});

test('pageSize is the unit of statm: its resident pages make the RSS status gives in kB', () => {
  const status = Number(/\nVmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'latin1'))?.[1]) * 1024;
  const statm = Number(readFileSync('/proc/self/statm', 'latin1').split(' ')[1]) * pageSize();
  // read one after the other: the two may differ by what this process touched between them
  assert.ok(Math.abs(statm - status) < 1024 * 1024, `statm ${statm} against status ${status}`);
  assert.ok([4096, 16384, 65536].includes(pageSize()));
});
