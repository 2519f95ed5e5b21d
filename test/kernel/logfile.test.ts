// --log-file: opened by angel, fed through a pipe angel owns, rotated with rename + SIGUSR1 without a line
// lost, cut or duplicated; on a full disk lines are dropped whole, with warnings; unsafe paths refused.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmdirSync, statSync, symlinkSync, writeFileSync, chownSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AngelRun, fixture } from '../helpers/events.js';

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

test('a full disk: lines are dropped whole with a warning, and a warning says when writes recover', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'angel-full-'));
  // mode 0755: a tmpfs root is 1777 by default, which a root angel refuses for its log
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmdirSync(dir);
    t.skip(`needs a small tmpfs to fill, and mounting one failed (${process.geteuid?.() === 0 ? mounted.stderr.trim() : 'not root'})`);
    return;
  }
  const log = join(dir, 'app.log');
  // lines of one length, so a cut one shows; the child never pauses, so the disk fills within moments
  const run = new AngelRun(['--log-file', log, '--', fixture('counter'), '8']);
  try {
    const failing = await run.event('warning', (event) => event.code === 'ENOSPC');
    assert.ok(String(failing.message).includes(log) && String(failing.message).includes('ENOSPC'), String(failing.message));
    assert.ok(Number(failing.droppedLines) > 0, `dropped count: ${failing.droppedLines}`);
    assert.equal(spawnSync('mount', ['-o', 'remount,size=1m', dir]).status, 0, 'the tmpfs grows');
    const recovered = await run.event('warning', (event) => /recovered/.test(String(event.message)));
    assert.match(String(recovered.message), /ENOSPC/);
    // every batch the chatty child sends fails meanwhile: the warnings about it come at most once a second
    const streakMs = Date.parse(String(recovered.time)) - Date.parse(String(failing.time));
    const failureWarnings = run.events.items.slice(0, run.events.items.indexOf(recovered)).filter((event) => event.event === 'warning').length;
    assert.ok(failureWarnings <= 2 + streakMs / 1000, `${failureWarnings} warnings in ${streakMs} ms`);
    run.signal('SIGTERM');
    assert.equal(await run.status(), 0);

    const text = readFileSync(log, 'latin1');
    assert.ok(text.endsWith('\n'), 'the file ends with a whole line');
    // the child's lines come through in order, so the first gap is the first failure streak
    let previous = 0;
    let firstGap: number | undefined;
    text
      .split('\n')
      .slice(0, -1)
      .forEach((line, index) => {
        assert.match(line, /^line \d{8}$/, `line ${index + 1} is whole, neither cut nor merged`);
        const number = Number(line.slice(5));
        assert.ok(number > previous, `line ${index + 1} in order`);
        if (firstGap === undefined && number !== previous + 1) firstGap = number - previous - 1;
        previous = number;
      });
    assert.equal(firstGap, recovered.droppedLines, 'the recovery warning counts the lines missing');
  } finally {
    run.kill();
    await run.exited;
    spawnSync('umount', [dir]);
    rmdirSync(dir);
  }
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
