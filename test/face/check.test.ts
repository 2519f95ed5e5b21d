// `angel check` makes every check `run` makes before it starts the program, in the same words and with the same
// status, and starts, binds and creates nothing. These tests run as root, as CI does.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AngelRun } from '../helpers/events.js';
import { scratchDir } from '../helpers/cleanup.js';

const scratch = scratchDir('angel-check-');
const notExecutable = join(scratch, 'not-executable');
writeFileSync(notExecutable, '#!/bin/sh\n');
chmodSync(notExecutable, 0o644);
const fifo = join(scratch, 'fifo');
execFileSync('mkfifo', [fifo]);
// a directory only root can write to, for the log file's rule when angel is root
const rootOnly = scratchDir('angel-check-root-');
chmodSync(rootOnly, 0o755);

/** What a line says: a usage line without its `angel: `, an event line's msg. */
function message(line: string | undefined): string | undefined {
  if (line?.startsWith('{')) return (JSON.parse(line) as { msg?: string }).msg;
  return line?.replace(/^angel: /, '');
}

async function outcome(args: string[], env?: NodeJS.ProcessEnv): Promise<{ status: number | null; first: string | undefined; lines: string[] }> {
  const run = new AngelRun(args, { json: false, ...(env && { env }) });
  const status = await run.status();
  return { status, first: message(run.stderrText[0]), lines: run.stderrText };
}

// what the child's user (nobody) meets, in a directory it can reach: a directory it cannot enter, files it
// cannot read or execute
const closed = join(rootOnly, 'closed');
mkdirSync(closed, { mode: 0o700 });
const script = (name: string, interpreter: string, mode: number): string => {
  const path = join(rootOnly, name);
  writeFileSync(path, `#!${interpreter}\necho ran\n`, { mode });
  chmodSync(path, mode);
  return path;
};
const unreadable = script('unreadable.sh', '/bin/sh', 0o711);
const readable = script('readable.sh', '/bin/sh', 0o755);
const noInterpreter = script('no-interpreter.sh', join(rootOnly, 'no-such-interpreter'), 0o755);
// a copy of the shell's file (copyFileSync reads through the /bin/sh symlink; a copied link would be chmod'ed
// through to the system's shell), that only root may execute
const privateShell = join(rootOnly, 'private-sh');
copyFileSync('/bin/sh', privateShell);
chmodSync(privateShell, 0o700);
const privateInterpreter = script('private-interpreter.sh', privateShell, 0o755);

describe('check and run agree', () => {
  const cases: Array<[string, string[], number, RegExp, NodeJS.ProcessEnv?]> = [
    ['no program at all', [], 2, /^missing <program> \(usage: angel \[options\] -- <program> \[args\.\.\.\]\)$/],
    ['a bad value', ['--max-mem', 'lots', '--', 'true'], 2, /^--max-mem: .*"lots"$/],
    ['a config file that is not there', ['--config', join(scratch, 'absent.json'), '--', 'true'], 2, /^--config: .*ENOENT/],
    ['a config file without a program', ['--config', join(scratch, 'empty.json')], 2, /^missing <program>/],
    ['a user that does not exist', ['--user', 'no-such-user-angel', '--', 'true'], 2, /^--user: expected a user that exists, got "no-such-user-angel"$/],
    ['a config file\'s user that does not exist: named by its key', ['--config', join(scratch, 'user.json')], 2, /^\/.*user\.json: user: expected a user that exists/],
    ['a group that does not exist', ['--group', 'no-such-group-angel', '--', 'true'], 2, /^--group: expected a group that exists/],
    ['a working directory that is not there', ['--cwd', join(scratch, 'absent'), '--', 'true'], 2, /^--cwd: expected a directory that exists/],
    ['a log file in a directory that is not there', ['--log-file', join(scratch, 'absent', 'x.log'), '--', 'true'], 2, /^--log-file: .*ENOENT/],
    ['a log file that is a FIFO', ['--log-file', fifo, '--', 'true'], 2, /^--log-file: .*/],
    ['a log file in a directory others can write to, when root', ['--log-file', join(scratch, '..', 'angel-check-x.log'), '--', 'true'], 2, /writable by others/],
    ['a program not on PATH', ['--', 'no-such-program-angel'], 127, /^spawn no-such-program-angel: execve: ENOENT \(not found in PATH=/],
    ['a program path that is not there', ['--', join(scratch, 'absent-program')], 127, /execve: ENOENT$/],
    ['a program that is not executable', ['--', notExecutable], 126, /execve: EACCES$/],
    ['a program that is a directory', ['--', scratch], 126, /execve: EACCES$/],
    ['a working directory the child\'s user cannot enter', ['--user', 'nobody', '--cwd', closed, '--', 'true'], 126, /^spawn true: chdir: EACCES \(.*\/closed, as nobody\)$/],
    ['a program the child\'s user cannot execute', ['--user', 'nobody', '--', privateShell], 126, /^spawn .*\/private-sh: execve: EACCES \(as nobody\)$/],
    ['a script the child\'s user cannot read', ['--user', 'nobody', '--', unreadable], 126, /^spawn .*\/unreadable\.sh: open: EACCES \(its interpreter \/bin\/sh reads it, as nobody\)$/],
    ['a script whose interpreter the child\'s user cannot execute', ['--user', 'nobody', '--', privateInterpreter], 126, /^spawn .*\/private-interpreter\.sh: execve: EACCES \(its interpreter .*\/private-sh, as nobody\)$/],
    ['a script whose interpreter is not there', ['--', noInterpreter], 127, /^spawn .*\/no-interpreter\.sh: execve: ENOENT \(its interpreter .*\/no-such-interpreter\)$/],
    ['a program not on the --env PATH', ['--env', `PATH=${scratch}`, '--', 'true'], 127, /not found in PATH=/],
    ['a SUDO_UID that is not a uid', ['--', 'true'], 126, /^SUDO_UID: expected a decimal uid/, { ...process.env, SUDO_UID: 'abc' }],
    ['the root rule: nobody is not in the group of the program', ['--', 'true'], 126, /^user nobody \(uid 65534\) may not run \/usr\/bin\/true/, { ...process.env, SUDO_UID: '65534' }],
    ['a variable off the allowlist, when root for another user', ['--env', 'LD_PRELOAD=/x.so', '--', 'true'], 2, /^--env: expected only TERM, COLORTERM, /, { ...process.env, SUDO_UID: '65534' }],
  ];
  writeFileSync(join(scratch, 'empty.json'), '{}');
  writeFileSync(join(scratch, 'user.json'), JSON.stringify({ program: 'true', user: 'no-such-user-angel' }));
  for (const [name, args, status, pattern, env] of cases) {
    test(`${name}: ${status}`, async () => {
      assert.equal(process.geteuid?.(), 0, 'these tests run as root');
      const [run, check] = await Promise.all([outcome(['--log-format', 'json', ...args], env), outcome(['check', ...args], env)]);
      assert.equal(check.status, status, check.lines.join('\n'));
      assert.equal(run.status, status, run.lines.join('\n'));
      assert.match(check.first ?? '', pattern);
      assert.equal(check.first, run.first, 'the same words');
      assert.equal(check.lines.length, 1, check.lines.join('\n'));
    });
  }
});

describe('check starts, binds and creates nothing', () => {
  test('a good config: the options printed, exit 0, no log file created, no socket bound, no child started', async () => {
    const log = join(rootOnly, 'new.log');
    const socket = join(rootOnly, 'socket');
    const marker = join(scratch, 'ran');
    const run = new AngelRun(['check', '--user', 'nobody', '--log-file', log, '--listen', `unix:${socket}`, '--', 'sh', '-c', `touch ${marker}`], { json: false });
    assert.equal(await run.status(), 0, run.stderrText.join('\n'));
    assert.deepEqual(run.stderrText, []);
    const shown = JSON.parse(run.stdout.items.join('\n')) as { user: string; logFile: string };
    assert.equal(shown.user, 'nobody');
    assert.equal(shown.logFile, log);
    assert.equal(existsSync(log), false, 'the log file is not created');
    assert.equal(existsSync(socket), false, 'the socket is not bound');
    assert.equal(existsSync(marker), false, 'the program did not run');
  });

  test('what the child\'s user can reach passes: a script nobody can read and run, in a directory nobody can enter', async () => {
    const marker = join(rootOnly, 'marker');
    const run = new AngelRun(['check', '--user', 'nobody', '--cwd', rootOnly, '--', readable, marker], { json: false });
    assert.equal(await run.status(), 0, run.stderrText.join('\n'));
    assert.equal((JSON.parse(run.stdout.items.join('\n')) as { program: string }).program, readable);
    const ran = new AngelRun(['--user', 'nobody', '--cwd', rootOnly, '--restart', 'never', '--', readable]);
    assert.equal(await ran.status(), 0, ran.stderrText.join('\n'));
    await ran.line(/^ran$/);
  });

  test('a log file already there passes; one in a directory that is there passes without being created', async () => {
    const existing = join(rootOnly, 'existing.log');
    writeFileSync(existing, '');
    mkdirSync(join(rootOnly, 'logs'), { mode: 0o755 });
    for (const log of [existing, join(rootOnly, 'logs', 'next.log')]) {
      const run = new AngelRun(['check', '--log-file', log, '--', 'true'], { json: false });
      assert.equal(await run.status(), 0, run.stderrText.join('\n'));
    }
    assert.equal(existsSync(join(rootOnly, 'logs', 'next.log')), false);
  });
});
