// What a new user types (face/words.ts, and the help and version commander prints): the commands listed by
// --help, help <command>, a mistyped command named rather than run as a program, a program without -- refused
// with the line as meant, and the version from package.json.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AngelRun, ROOT } from '../helpers/events.js';
import { scratchDir } from '../helpers/cleanup.js';

const scratch = scratchDir('angel-words-');

test('--version says the version package.json holds', async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const run = new AngelRun(['--version'], { json: false });
  assert.equal(await run.status(), 0);
  assert.equal(run.stdout.items[0], `angel ${version} (not locked)`);
});

const one = async (args: string[]): Promise<{ status: number | null; line: string; stdout: string[] }> => {
  const run = new AngelRun(args, { json: false });
  const status = await run.status();
  assert.equal(run.stderrText.length, status === 0 ? 0 : 1, run.stderrText.join('\n'));
  return { status, line: run.stderrText[0] ?? '', stdout: run.stdout.items };
};

test('angel --help lists the commands and -V beside run\'s options; angel help <command> is that command\'s help', async () => {
  const help = await one(['--help']);
  assert.equal(help.status, 0);
  for (const command of ['run', 'check', 'bench', 'status', 'completion', 'help']) {
    assert.ok(help.stdout.some((line) => line.startsWith(`  ${command} `)), `${command} listed`);
  }
  assert.ok(help.stdout.some((line) => /^ {2}-V, --version /.test(line)));
  assert.ok(help.stdout.some((line) => line.startsWith('  --max-mem <size|N%>')), 'run\'s options are there too');
  for (const command of ['check', 'bench', 'status', 'completion']) {
    const shown = await one(['help', command]);
    assert.equal(shown.status, 0);
    assert.match(shown.stdout[0] ?? '', new RegExp(`^Usage: angel ${command} `));
    // run's options are defined only on the command named (cli.ts): each of these has them, bench its own too
    const has = (flag: string): boolean => shown.stdout.some((line) => line.trimStart().startsWith(flag));
    assert.equal(has('--max-mem <size|N%>'), command === 'check' || command === 'bench', `${command}: --max-mem`);
    assert.equal(has('-r, --runs <n>'), command === 'bench', `${command}: --runs`);
  }
});

test('a mistyped command is named, not run as a program (which exited 127)', async () => {
  const typo = await one(['stauts', '1234']);
  assert.equal(typo.status, 2);
  assert.equal(typo.line, 'angel: unknown command "stauts": did you mean `angel status 1234`? (a program to run goes after --: `angel -- stauts 1234`)');
  const help = await one(['help', 'chek']);
  assert.equal(help.status, 2);
  assert.match(help.line, /^angel: unknown command "chek" for help: did you mean `angel help check`\? \(commands: run, check, bench, status, completion, help\)$/);
});

test('a program without -- before it is shown the line with --, and does not run', async () => {
  const marker = join(scratch, 'touched-without-dashes');
  for (const [args, meant] of [
    [['node', '-e', '1'], '`angel -- node -e 1`'],
    [['--max-mem', '1G', 'touch', marker], `\`angel --max-mem 1G -- touch ${marker}\``],
    [['check', '--cgroup', 'touch', marker], `\`angel check --cgroup -- touch ${marker}\``],
    [['bench', '--runs', '2', 'touch', marker], `\`angel bench --runs 2 -- touch ${marker}\``],
  ] as const) {
    const refused = await one([...args]);
    assert.equal(refused.status, 2, args.join(' '));
    assert.equal(refused.line, `angel: missing -- before the program: ${meant} (what follows -- is the program's own, never angel's)`);
  }
  assert.equal(existsSync(marker), false, 'nothing ran');
});
