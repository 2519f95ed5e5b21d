// A locked build: the addon is compiled with ANGEL_LOCK_PROGRAM into a copy of the package, and that angel
// starts its one program, refuses others, verifies the binary and runs the file it opened.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, cpSync, mkdirSync, readdirSync, renameSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { AngelRun, ROOT as root } from '../helpers/events.js';
import { scratchDir } from '../helpers/cleanup.js';

const copy = scratchDir('angel-locked-');
const program = join(copy, 'bin', 'program');
const cli = join(copy, 'dist', 'src', 'face', 'cli.js');

before(() => {
  for (const entry of ['package.json', 'binding.gyp', 'scripts', 'dist']) cpSync(join(root, entry), join(copy, entry), { recursive: true });
  mkdirSync(join(copy, 'native'));
  for (const file of readdirSync(join(root, 'native')).filter((name) => /\.[ch]$/.test(name))) {
    copyFileSync(join(root, 'native', file), join(copy, 'native', file));
  }
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  mkdirSync(join(copy, 'bin'));
  copyFileSync('/bin/echo', program);
  chmodSync(program, 0o755);
  execFileSync(process.execPath, [join(copy, 'scripts', 'build-native.mjs')], { env: { ...process.env, ANGEL_LOCK_PROGRAM: program }, stdio: 'ignore' });
});

const locked = (args: string[]): AngelRun => new AngelRun(args, { cli });

test('--version says what it is locked to', () => {
  const version = spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8' });
  assert.equal(version.stdout.trim(), `angel 0.1.0 (locked to ${program})`);
});

test('it starts its program, and a binary swapped in after the check is not what runs', async () => {
  const run = locked(['--restart', 'always', '--max-restarts', '3', '--', program, 'original']);
  await run.line(/^original$/);
  // replace the file at the locked path (as an upgrade or an attacker would) while angel keeps restarting it
  const swapped = join(copy, 'bin', 'swapped');
  copyFileSync('/bin/true', swapped);
  renameSync(swapped, program);
  assert.equal(spawnSync(program, ['original'], { encoding: 'utf8' }).stdout, '', 'the path now holds another program');
  assert.equal(await run.status(), 1, 'a give-up is a failure, though each run exited 0');
  assert.equal(run.count('start'), 4);
  assert.deepEqual(run.stdout.items, ['original', 'original', 'original', 'original'], 'every generation ran the file angel opened');
  copyFileSync('/bin/echo', program); // put it back for the other tests
});

test('another program is refused, by run and by check alike', async () => {
  for (const args of [['--', '/bin/echo', 'hi'], ['check', '--', '/bin/echo', 'hi']]) {
    const run = new AngelRun(args, { cli, json: false });
    assert.equal(await run.status(), 126);
    assert.equal(run.stderrText[0], `angel: this angel is locked to ${program}; refusing /bin/echo`);
  }
});

test('a binary writable by its group is refused when root', async () => {
  chmodSync(program, 0o775);
  try {
    const run = locked(['--', program, 'x']);
    assert.equal(await run.status(), 126);
    assert.match(run.stderrText[0] ?? '', /refusing locked program .*: writable by group or others \(mode 775\)/);
  } finally {
    chmodSync(program, 0o755);
  }
});

test('the lock compares the file, not its spelling: a name found in PATH or a link to it is the locked program; a copy is not', async () => {
  const link = join(copy, 'link-to-program');
  symlinkSync(program, link);
  const env = { ...process.env, PATH: `${join(copy, 'bin')}:/usr/bin:/bin` };
  for (const spelling of ['program', link]) {
    const run = new AngelRun(['--restart', 'never', '--', spelling, 'by', spelling], { cli, env });
    assert.equal(await run.status(), 0, spelling);
    assert.deepEqual(run.stdout.items, [`by ${spelling}`]);
  }
  const twin = join(copy, 'twin');
  copyFileSync(program, twin);
  const refused = new AngelRun(['--', twin], { cli, env });
  assert.equal(await refused.status(), 126);
  assert.equal(refused.stderrText[0], `angel: this angel is locked to ${program}; refusing ${twin}`);
});

test('as root, the lock path is walked: a directory on the way that another user owns is refused, for it could be swapped for a link', async () => {
  const bin = join(copy, 'bin');
  chownSync(bin, 65534, 65534);
  try {
    const run = locked(['--', program, 'x']);
    assert.equal(await run.status(), 126);
    assert.equal(run.stderrText[0], `angel: refusing locked program ${program}: ${bin} is owned by uid 65534, mode 0755`);
    assert.deepEqual(run.stdout.items, [], 'nothing ran');
  } finally {
    chownSync(bin, 0, 0);
  }
});
