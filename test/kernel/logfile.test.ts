// --log-file: opened by angel, fed through a pipe angel owns (one a stream with tags), rotated with rename +
// SIGUSR1 and by size without a line lost, cut or duplicated; lines stamped and tagged; on a full disk lines
// are dropped whole, with warnings; unsafe paths refused.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, statSync, symlinkSync, writeFileSync, chownSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AngelRun, fixture } from '../helpers/events.js';
import { until as untilWithin } from '../helpers/spawn-output.js';
import { scratchDir } from '../helpers/cleanup.js';

const until = (condition: () => boolean, what: string): Promise<void> => untilWithin(condition, what, 10_000);

// a directory only root may write to, as the rule for a root angel asks
function safeDir(): string {
  const dir = join(scratchDir('angel-log-'), 'logs');
  mkdirSync(dir, { mode: 0o755 });
  return dir;
}

const lineCount = (path: string): number => (existsSync(path) ? readFileSync(path, 'latin1').split('\n').length - 1 : 0);
const linesOf = (path: string): string[] => readFileSync(path, 'latin1').split('\n').slice(0, -1);
const ISO_UTC = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';

/** The counter's numbers in `lines` (`[prefix]line <n>`), each line whole, and in order. */
function counted(lines: readonly string[], prefix = ''): number[] {
  const line = new RegExp(`^${prefix}line (\\d+)$`);
  return lines.map((text, index) => {
    const match = line.exec(text);
    assert.ok(match, `line ${index + 1} is whole: ${JSON.stringify(text)}`);
    return Number(match[1]);
  });
}

/** Asserts numbers run on without a gap or a repeat. */
function consecutive(numbers: readonly number[], what: string): void {
  numbers.forEach((number, index) => index > 0 && assert.equal(number, (numbers[index - 1] as number) + 1, `${what}: after ${numbers[index - 1]}`));
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
  const dir = scratchDir('angel-full-');
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

test('--log-timestamps --log-stream-tag: every line starts with the time angel read it and its stream; each stream keeps its order, and none is lost', async () => {
  const log = join(safeDir(), 'app.log');
  const run = new AngelRun(['--log-file', log, '--log-timestamps', '--log-stream-tag', '--', fixture('counter')]);
  await until(() => lineCount(log) > 3000, 'lines in the file');
  run.signal('SIGTERM');
  assert.equal(await run.status(), 0);
  const line = new RegExp(`^(${ISO_UTC}) (out|err) line (\\d+)$`);
  const streams = { out: [] as number[], err: [] as number[] };
  let previous = '';
  for (const text of linesOf(log)) {
    const match = line.exec(text);
    assert.ok(match, JSON.stringify(text));
    const [, time = '', tag = '', number = ''] = match;
    assert.ok(time >= previous, `times never go back: ${previous} then ${time}`);
    previous = time;
    // the counter writes every 100th line to stderr
    assert.equal(tag, Number(number) % 100 === 0 ? 'err' : 'out', text);
    streams[tag as 'out' | 'err'].push(Number(number));
  }
  for (const numbers of Object.values(streams)) assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), 'in order within its stream');
  const all = [...streams.out, ...streams.err].sort((a, b) => a - b);
  consecutive(all, 'both streams together');
  assert.equal(all[0], 1);
});

test('--log-max-size under a child printing without pause: no line lost, cut or duplicated across the files, none past the size, the oldest removed', async () => {
  const log = join(safeDir(), 'app.log');
  const run = new AngelRun(['--log-file', log, '--log-max-size', '4K', '--log-keep', '3', '--log-timestamps', '--', fixture('counter'), '8']);
  // the first file has been rotated away once the oldest kept one no longer starts at line 1
  await until(() => existsSync(`${log}.3`) && !readFileSync(`${log}.3`, 'latin1').startsWith('line 00000001', 25), 'rotations past --log-keep');
  run.signal('SIGTERM');
  assert.equal(await run.status(), 0);
  assert.equal(existsSync(`${log}.4`), false, 'three kept');
  const files = [`${log}.3`, `${log}.2`, `${log}.1`, log];
  for (const file of files) {
    const { size } = statSync(file);
    assert.ok(size <= 4096, `${file}: ${size} bytes`);
    if (file !== log) assert.ok(size > 4096 - 40, `${file} was filled before it was rotated: ${size} bytes`);
    assert.equal(statSync(file).mode & 0o777, 0o640);
  }
  const numbers = counted(files.flatMap(linesOf), `${ISO_UTC} `);
  consecutive(numbers, 'across the files');
  assert.ok(numbers[0] as number > 1, 'the oldest was removed');
});

test('a rotation by size between logrotate\'s rename and its SIGUSR1 moves none of logrotate\'s files and loses no line', async () => {
  const dir = safeDir();
  const log = join(dir, 'app.log');
  const theirs = join(dir, 'app.log-logrotate');
  // the child copies what the test writes: no output, so no rotation, while logrotate acts
  const run = new AngelRun(['--log-file', log, '--log-max-size', '4K', '--', 'cat']);
  let next = 1;
  const print = async (lines: number): Promise<void> => {
    for (const last = next + lines; next < last; next++) run.process.stdin.write(`line ${String(next).padStart(8, '0')}\n`);
    await until(() => [theirs, log].map(lineCount).reduce((sum, count) => sum + count, 0) >= next - 1 + (existsSync(theirs) ? 1 : 0), `line ${next - 1} in a file`);
  };
  await print(200);
  // logrotate's rename, then its `create`
  renameSync(log, theirs);
  writeFileSync(log, 'created by logrotate\n', { mode: 0o640 });
  await print(200); // past 4K: a rotation, which finds logrotate's new file at the name
  run.signal('SIGUSR1');
  await print(100);
  run.process.stdin.end();
  assert.equal(await run.status(), 0);

  assert.deepEqual(readdirSync(dir).sort(), ['app.log', 'app.log-logrotate'], 'nothing was renamed: the file at the name was not angel\'s');
  const [created, ...rest] = linesOf(log);
  assert.equal(created, 'created by logrotate', 'angel took up the file logrotate created');
  const numbers = [...counted(linesOf(theirs)), ...counted(rest)];
  consecutive(numbers, 'logrotate\'s file, then the new one');
  assert.deepEqual([numbers[0], numbers.at(-1)], [1, 500]);
});

test('a rotation that fails is a warning naming the errno; angel writes on into the file it has, and no line is lost', async () => {
  const log = join(safeDir(), 'app.log');
  mkdirSync(`${log}.1`); // rename(2) of a file over a directory: EISDIR
  const run = new AngelRun(['--log-file', log, '--log-max-size', '4K', '--log-keep', '1', '--', fixture('counter'), '8']);
  const warning = await run.event('warning', (event) => /rotation failed/.test(String(event.message)));
  assert.equal(warning.code, 'EISDIR');
  assert.match(String(warning.message), new RegExp(`^log file ${log}: rotation failed \\(rename: EISDIR .*\\); writing on into it, next try past \\d+ bytes$`));
  await until(() => existsSync(log) && statSync(log).size > 3 * 4096, 'the file growing past the size');
  run.signal('SIGTERM');
  assert.equal(await run.status(), 0);
  const numbers = counted(linesOf(log));
  consecutive(numbers, 'the one file');
  assert.equal(numbers[0], 1);
  const failures = run.events.items.filter((event) => /rotation failed/.test(String(event.message))).length;
  assert.ok(failures <= 1 + statSync(log).size / 4096, `tried again once a size later, not at every batch: ${failures} warnings`);
});
