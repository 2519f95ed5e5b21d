// Every errno by its name, in every message: the one table (core/errnos.ts) against the C library's list, and
// the errno libuv had no name for (ENOEXEC) through the addon, spawnChild and the CLI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { errnoName, errorCode } from '../../src/core/errnos.js';
import { SpawnError } from '../../src/core/errors.js';
import { spawnChild } from '../../src/kernel/spawn.js';
import { AngelRun, fixture } from '../helpers/events.js';
import { scratchDir } from '../helpers/cleanup.js';

const scratch = scratchDir('angel-errnos-');

test('the table names every errno the C library names, with the same name (strerrorname_np)', () => {
  const list = execFileSync(fixture('errnames'), { encoding: 'utf8' }).trim().split('\n');
  assert.ok(list.length > 120, `the C library lists ${list.length} errnos`);
  const wrong = list.map((line) => line.split(' ')).filter(([number, name]) => errnoName(Number(number)) !== name);
  assert.deepEqual(wrong, []);
});

test('every name in Node\'s os.constants.errno reads back as itself or the name of its number', () => {
  for (const [name, number] of Object.entries(constants.errno)) {
    const named = errnoName(number);
    assert.ok(named === name || ['EWOULDBLOCK', 'ENOTSUP', 'EDEADLOCK'].includes(name), `${name} (${number}) named ${named}`);
    assert.equal(errnoName(-number), named, 'libuv\'s negative numbers too');
  }
  assert.equal(errnoName(8), 'ENOEXEC');
  assert.equal(errnoName(4000), 'errno 4000', 'a number no table knows is still one line without "Unknown"');
});

test('errorCode names a Node error by its number, where libuv wrote "Unknown system error"', () => {
  const error = Object.assign(new Error('x'), { errno: -8, code: 'Unknown system error -8' });
  assert.equal(errorCode(error), 'ENOEXEC');
  assert.equal(errorCode(Object.assign(new Error('x'), { code: 'EPIPE' })), 'EPIPE');
});

test('a script without #! fails at execve with ENOEXEC, named in the error and in the CLI\'s line (126)', async () => {
  const script = join(scratch, 'no-shebang');
  writeFileSync(script, 'echo hello\n');
  chmodSync(script, 0o755);
  assert.throws(() => spawnChild({ program: script }), (error: unknown) => {
    assert.ok(error instanceof SpawnError);
    assert.equal(error.code, 'ENOEXEC');
    assert.equal(error.message, `spawn ${script}: execve: ENOEXEC`);
    return true;
  });
  const run = new AngelRun(['--', script], { json: false });
  assert.equal(await run.status(), 126);
  const text = run.stderrText.join('\n');
  assert.match(text, /execve: ENOEXEC/);
  assert.doesNotMatch(text, /Unknown system error/);
});
