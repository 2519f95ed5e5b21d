// The event log's two ways of writing: synchronously where stderr cannot stall on a reader, asynchronously
// where it can; either way every line is out, in order, when angel exits.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cannotStall } from '../../src/face/log.js';
import { openReadyPipe } from '../../src/kernel/ready.js';
import { parseListen } from '../../src/core/addresses.js';
import { bindAll, closeAll, type HeldSocket } from '../../src/kernel/sockets.js';
import { AngelRun, cliArgs, COMMAND } from '../helpers/events.js';
import { until } from '../helpers/spawn-output.js';
import { scratchDir } from '../helpers/cleanup.js';

const scratch = scratchDir('angel-log-');
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));

test('a regular file and /dev/null cannot stall; a pipe, a socket and a terminal can', () => {
  const file = openSync(join(scratch, 'file'), 'w');
  const devNull = openSync('/dev/null', 'w');
  const terminal = openSync('/dev/ptmx', 'r+'); // a pseudo-terminal's master side
  try {
    assert.equal(cannotStall(file), true);
    assert.equal(cannotStall(devNull), true);
    assert.equal(cannotStall(terminal), false);
  } finally {
    for (const fd of [file, devNull, terminal]) closeSync(fd);
  }

  const pipe = openReadyPipe();
  try {
    assert.equal(cannotStall(pipe.writeFd), false);
  } finally {
    closeSync(pipe.readFd);
    closeSync(pipe.writeFd);
  }

  const [socket] = bindAll([parseListen(`unix:${join(scratch, 'socket')}`, 0)], 0o600);
  try {
    assert.equal(cannotStall((socket as HeldSocket).fd), false);
  } finally {
    closeAll([socket as HeldSocket]);
  }
});

test('with stderr on a regular file, the event log holds every event of a run, in the order a pipe sees them', async () => {
  const args = ['--max-restarts', '3', '--max-restart-delay', '0', '--', 'sh', '-c', 'exit 3'];
  const logPath = join(scratch, 'events.ndjson');
  const logFd = openSync(logPath, 'w');
  const angel = spawn(process.execPath, cliArgs('--log-format', 'json', ...args), { stdio: ['ignore', 'ignore', logFd] });
  closeSync(logFd);
  const status = await new Promise((resolve) => angel.once('exit', resolve));
  assert.equal(status, 3);
  const fromFile = readFileSync(logPath, 'utf8').trim().split('\n').map((line) => JSON.parse(line).event as string);

  const piped = new AngelRun(args);
  assert.equal(await piped.status(), 3);
  const fromPipe = piped.events.items.map((event) => event.event);

  assert.deepEqual(fromFile, fromPipe);
  assert.deepEqual(fromFile.filter((event) => event === 'start').length, 4);
  assert.deepEqual(fromFile.slice(-2), ['giveup', 'shutdown']);
});

test('pretty lines: no child pid in pino\'s (pid) slot, and counts in the right number (`giving up: 1 restart`)', async () => {
  const run = new AngelRun(['--log-format', 'pretty', '--max-restarts', '1', '--max-restart-delay', '0', '--', 'sh', '-c', 'exit 3'], { json: false });
  assert.equal(await run.status(), 3);
  const text = run.stderrText.join('\n');
  const started = /start pid (\d+) generation 0/.exec(text);
  assert.ok(started, text);
  assert.doesNotMatch(text, /(INFO|ERROR|WARN) \(\d+\)/, 'the slot after the level is the logger\'s pid, never the child\'s');
  assert.match(text, /ERROR: giving up: 1 restart after quick deaths \(under --min-uptime\) within 60 s, status \d+$/m);
});

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

test('JSON events carry ISO 8601 times with milliseconds, in UTC (pino\'s isoTime)', async () => {
  const run = new AngelRun(['--restart', 'never', '--', 'true']);
  assert.equal(await run.status(), 0);
  const times = run.events.items.map((event) => event.time);
  assert.ok(times.length >= 3, JSON.stringify(times));
  for (const time of times) assert.match(String(time), ISO_UTC);
});

/** angel's stderr when it runs on a terminal: script(1) gives it a pseudo-terminal, and copies what it
 * printed there to its own stdout. */
function onTerminal(args: string[]): Promise<string> {
  const command = [COMMAND, ...args].map((word) => `'${word}'`).join(' ');
  const script = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  script.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => script.once('close', () => resolve(output)));
}

test('--log-format wins over the terminal guess: pretty into a pipe (| tee), JSON onto a terminal', async () => {
  const piped = new AngelRun(['--log-format', 'pretty', '--restart', 'never', '--', 'true'], { json: false });
  assert.equal(await piped.status(), 0);
  assert.match(piped.stderrText.join('\n'), /^\[[\d:.]+\] INFO: start pid \d+ generation 0$/m, 'pretty lines, uncoloured, into a pipe');

  const json = await onTerminal(['--log-format', 'json', '--restart', 'never', '--', 'true']);
  const lines = json.split(/\r?\n/).filter((line) => line !== '');
  assert.ok(lines.length >= 3, json);
  for (const line of lines) assert.equal(typeof (JSON.parse(line) as { event?: unknown }).event, 'string', line);

  const guessed = await onTerminal(['--restart', 'never', '--', 'true']);
  assert.match(guessed, /INFO.*start pid \d+ generation 0/, 'without --log-format, pretty on a terminal');
  assert.doesNotMatch(guessed, /"event"/);
});

/** The lines of a log file, as JSON events where they are one (after any prefix), else as text. */
function fileLines(path: string, prefix = ''): Array<{ event?: string; text: string }> {
  const line = new RegExp(`^${prefix}(.*)$`);
  return readFileSync(path, 'utf8').split('\n').slice(0, -1).map((whole) => {
    const text = line.exec(whole)?.[1];
    assert.ok(text !== undefined, `${JSON.stringify(whole)} starts with ${prefix}`);
    try {
      return { event: (JSON.parse(text) as { event: string }).event, text };
    } catch {
      return { text };
    }
  });
}

test('--log-events file: the events are lines of the log file, in their order, and none goes to stderr', async () => {
  const log = join(scratch, 'events-file.log');
  const run = new AngelRun(['--log-file', log, '--log-events', 'file', '--restart', 'never', '--', 'sh', '-c', 'echo from the child']);
  assert.equal(await run.status(), 0);
  assert.equal(run.stderrText.length, 0, run.stderrText.join('\n'));
  const lines = fileLines(log);
  assert.deepEqual(lines.filter((line) => line.event).map((line) => line.event), ['start', 'ready', 'exit', 'shutdown']);
  assert.deepEqual(lines.filter((line) => !line.event).map((line) => line.text), ['from the child']);
});

test('--log-events both, with stamps and tags: the same events on stderr and in the file, tagged angel', async () => {
  const log = join(scratch, 'events-both.log');
  const run = new AngelRun(['--log-file', log, '--log-events', 'both', '--log-timestamps', '--log-stream-tag', '--restart', 'never', '--', 'sh', '-c', 'echo out; echo err >&2']);
  assert.equal(await run.status(), 0);
  const lines = fileLines(log, `${ISO_UTC.source.slice(1, -1)} (?:out|err|angel) `);
  const tagged = readFileSync(log, 'utf8').split('\n').slice(0, -1).map((line) => line.split(' ')[1]);
  lines.forEach((line, index) => assert.equal(tagged[index], line.event ? 'angel' : line.text, JSON.stringify(line)));
  assert.deepEqual(lines.filter((line) => line.event).map((line) => line.text), run.events.items.map((event) => JSON.stringify(event)));
});

test('an event never joins an unended line of the child\'s: the line is held until it ends, and ended at the close', async () => {
  const log = join(scratch, 'events-unended.log');
  const run = new AngelRun(['--log-file', log, '--log-events', 'file', '--', 'sh', '-c', 'printf "half a line"; exec sleep 30']);
  // the start and ready events are written while the child's line waits for its end
  await until(() => existsSync(log) && fileLines(log).some((line) => line.event === 'ready'), 'the ready event in the file', 10_000);
  run.signal('SIGTERM');
  assert.equal(await run.status(), 143);
  const lines = fileLines(log);
  assert.deepEqual(lines.filter((line) => !line.event).map((line) => line.text), ['half a line']);
  assert.deepEqual(lines.filter((line) => line.event).map((line) => line.event), ['start', 'ready', 'exit', 'shutdown']);
});
