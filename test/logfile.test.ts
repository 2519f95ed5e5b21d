// --log-file: opened by angel, fed through a pipe angel owns, rotated with rename + SIGUSR1 without a line
// lost, cut or duplicated; unsafe paths refused.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync, chownSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AngelRun, fixture } from './helpers/events.js';

// a directory only root may write to, as the rule for a root angel asks
function safeDir(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'angel-log-')), 'logs');
  mkdirSync(dir, { mode: 0o755 });
  return dir;
}

const lineCount = (path: string): number => (existsSync(path) ? readFileSync(path, 'latin1').split('\n').length - 1 : 0);

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('rename + SIGUSR1 under a child printing without pause: no line lost, cut or duplicated', async () => {
  const dir = safeDir();
  const log = join(dir, 'app.log');
  const run = new AngelRun(['--log-file', log, '--', fixture('counter')]);
  await until(() => lineCount(log) > 2000, 'lines in the first file');
  renameSync(log, `${log}.1`);
  run.signal('SIGUSR1');
  await until(() => lineCount(log) > 2000, 'lines in the reopened file');
  run.signal('SIGTERM');
  assert.equal(await run.status(), 0);
  const first = readFileSync(`${log}.1`, 'latin1');
  const second = readFileSync(log, 'latin1');
  assert.ok(first.endsWith('\n') && second.endsWith('\n'), 'both files end with a whole line');
  const lines = (first + second).split('\n').slice(0, -1);
  lines.forEach((line, index) => assert.equal(line, `line ${index + 1}`, `line ${index + 1} of ${lines.length}`));
  assert.ok(lines.length > 4000);
  assert.equal(statSync(log).mode & 0o777, 0o640, 'created with a safe mode');
});

test('the child holds only the pipe, never the log file', async () => {
  const dir = safeDir();
  const log = join(dir, 'app.log');
  const run = new AngelRun(['--log-file', log, '--restart', 'never', '--', 'sh', '-c', 'ls -l /proc/$$/fd/ | sed "s/.*-> //" | sort -u; echo done']);
  assert.equal(await run.status(), 0);
  const targets = readFileSync(log, 'latin1');
  assert.match(targets, /^pipe:\[\d+\]$/m);
  assert.equal(targets.includes(log), false, targets);
});

test('a symlink planted at the log path is refused; so is a directory others may write to', async () => {
  const dir = safeDir();
  const target = join(dir, 'victim');
  writeFileSync(target, 'precious\n');
  const log = join(dir, 'app.log');
  symlinkSync(target, log);
  const planted = new AngelRun(['--log-file', log, '--', 'true']);
  assert.equal(await planted.status(), 2);
  assert.match(planted.stderrText.join('\n'), /--log-file.*symlink.*ELOOP/);
  assert.equal(readFileSync(target, 'utf8'), 'precious\n', 'nothing was appended through the link');

  const open = safeDir();
  chownSync(open, 65534, 65534);
  const unsafe = new AngelRun(['--log-file', join(open, 'app.log'), '--', 'true']);
  assert.equal(await unsafe.status(), 2);
  assert.match(unsafe.stderrText.join('\n'), /--log-file.*only root can write.*uid 65534/);
  assert.deepEqual(readdirSync(open), [], 'no file was created there');
});
