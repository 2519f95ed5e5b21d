// Paths angel opens for someone else (log file, config file) are walked with openat and must be regular
// files: a symlinked directory on the way, a FIFO or a device is refused without angel blocking in open(2),
// and a config is read with a bound. Runs as root, as CI does.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, lchownSync, mkdirSync, openSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pseudoFilesystemOf } from '../../src/kernel/safeopen.js';
import { AngelRun } from '../helpers/events.js';
import { scratchDir } from '../helpers/cleanup.js';

const scratch = (): string => {
  const dir = scratchDir('angel-safeopen-');
  chmodSync(dir, 0o755);
  return dir;
};

test('a symlinked directory on the log path, planted by another user in a 1777 directory, is refused', async () => {
  const base = scratch();
  const rootOnly = join(base, 'rootonly');
  mkdirSync(rootOnly, { mode: 0o700 });
  const world = join(base, 'world');
  mkdirSync(world);
  chmodSync(world, 0o1777);
  symlinkSync(rootOnly, join(world, 'logs'));
  lchownSync(join(world, 'logs'), 65534, 65534);
  const run = new AngelRun(['--log-file', join(world, 'logs', 'app.log'), '--', 'true']);
  assert.equal(await run.status(), 2);
  assert.equal(run.stderrText.length, 1);
  assert.match(run.stderrText[0] ?? '', /^angel: --log-file: expected a file in a directory only root can write to \(.*\/world\/logs is a symlink, ELOOP\)/);
  assert.equal(existsSync(join(rootOnly, 'app.log')), false, 'root wrote nothing through the link');
});

test('a log file in a directory that does not exist is one usage line, not a stack trace', async () => {
  const run = new AngelRun(['--log-file', '/nonexistent/x.log', '--', 'true']);
  assert.equal(await run.status(), 2);
  assert.deepEqual(run.stderrText, ['angel: --log-file: expected a file in a directory only root can write to (/nonexistent: ENOENT), got "/nonexistent/x.log"']);
});

test('a FIFO as --log-file or --config, or /dev/zero as --config, is refused at once without blocking angel', async () => {
  const dir = scratch();
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const big = join(dir, 'big.json');
  writeFileSync(big, `{"program":"true","args":[${'"x",'.repeat(300_000)}"x"]}`);
  const cases: Array<[string[], RegExp]> = [
    [['--log-file', fifo, '--', 'true'], /^angel: --log-file: .*fifo is not a regular file \(a FIFO\)|ENXIO/],
    [['--config', fifo], /^angel: --config: expected a readable regular file \(.*fifo is not a regular file \(a FIFO\)\)/],
    [['--config', '/dev/zero'], /^angel: --config: expected a readable regular file \(\/dev\/zero is not a regular file \(a character device\)\)/],
    [['--config', big], /^angel: --config: expected a readable regular file \(.*big\.json is larger than 1048576 bytes\)/],
  ];
  for (const [args, message] of cases) {
    const run = new AngelRun(args);
    assert.equal(await run.status(5000), 2, args.join(' '));
    assert.equal(run.stderrText.length, 1);
    assert.match(run.stderrText[0] ?? '', message);
  }
});

test('SIGUSR1 after the log was replaced by a FIFO: a warning, the old file kept, and angel still answers SIGTERM', async () => {
  const dir = scratch();
  const log = join(dir, 'app.log');
  const run = new AngelRun(['--log-file', log, '--', 'sh', '-c', 'echo first; exec sleep 30']);
  await run.event('start');
  renameSync(log, `${log}.1`);
  execFileSync('mkfifo', [log]);
  run.signal('SIGUSR1');
  const warning = await run.event('warning');
  assert.match(String(warning.message), /^reopen: --log-file: .*app\.log is not a regular file \(a FIFO\)|ENXIO/);
  run.signal('SIGTERM');
  assert.equal(await run.status(5000), 143);
});

test('SIGHUP after the config was replaced by a FIFO: a warning, and the running child keeps running', async () => {
  const dir = scratch();
  const file = join(dir, 'angel.json');
  writeFileSync(file, JSON.stringify({ program: 'sh', args: ['-c', 'echo up; exec sleep 30'] }));
  const run = new AngelRun(['--config', file]);
  await run.line(/^up$/);
  renameSync(file, `${file}.old`);
  execFileSync('mkfifo', [file]);
  run.signal('SIGHUP');
  const warning = await run.event('warning');
  assert.match(String(warning.message), /angel\.json rejected, nothing changed: --config: .*is not a regular file \(a FIFO\)/);
  run.signal('SIGTERM');
  assert.equal(await run.status(5000), 143);
  assert.equal(run.count('start'), 1, 'no new generation');
});

test('the kernel\'s own filesystems are no log or export target, for anyone: proc, sysfs, cgroup; tmpfs is fine', () => {
  const rows: Array<[string, string | null]> = [
    ['/proc/sys/kernel/core_pattern', 'proc'], ['/proc/self/status', 'proc'], ['/sys/kernel/mm/transparent_hugepage/enabled', 'sysfs'],
    ['/etc/hostname', null],
  ];
  const shm = join('/dev/shm', `angel-safeopen-${process.pid}`);
  writeFileSync(shm, 'x');
  rows.push([shm, null]);
  for (const [path, expected] of rows) {
    if (!existsSync(path)) continue;
    const fd = openSync(path, 'r');
    try {
      assert.equal(pseudoFilesystemOf(fd), expected, path);
    } finally {
      closeSync(fd);
    }
  }
  rmSync(shm);
});

test('--log-file on a kernel file is refused by name, as root and as anyone', async () => {
  const run = new AngelRun(['--log-file', '/proc/sys/kernel/core_pattern', '--', 'true']);
  assert.equal(await run.status(), 2);
  assert.match(run.stderrText[0] ?? '', /^angel: --log-file: expected a file in a directory only root can write to \(.*(proc is owned|on proc, the kernel's own filesystem)/);
});
