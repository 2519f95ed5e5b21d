// `angel completion bash|zsh` (face/completion.ts): the scripts the CLI prints, loaded into real shells, and
// what they offer at the end of a line. bash runs the completion function as readline would (COMP_WORDS,
// COMP_CWORD); zsh runs interactively on a pseudo-terminal (test/fixtures/zsh-complete.zsh), with compinit.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { OPTIONS } from '../../src/core/options.js';
import { cliArgs, fixtureSource } from '../helpers/events.js';
import { scratchDir } from '../helpers/cleanup.js';

const scratch = scratchDir('angel-completion-');

function script(shell: string): string {
  const file = join(scratch, `angel.${shell}`);
  writeFileSync(file, execFileSync(process.execPath, cliArgs('completion', shell), { encoding: 'utf8' }));
  return file;
}

/** What bash's completion offers for the last word of `line` (an empty last word after a trailing space). */
function bashOffers(file: string, line: string): string[] {
  const words = line.split(' ');
  const program = `source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _angel 2>/dev/null; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync('bash', ['--norc', '--noprofile', '-c', program, file, ...words], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.split('\n').filter((word) => word !== '');
}

/** What zsh's completion offers for the last word of each line, from one shell. */
function zshOffers(file: string, lines: readonly string[]): Map<string, string[]> {
  const result = spawnSync('zsh', ['-f', fixtureSource('zsh-complete.zsh'), file, ...lines], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 0, result.stderr);
  const offers = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of result.stdout.split('\n')) {
    if (line.startsWith('== ')) offers.set(line.slice(3), (current = []));
    else if (line.trim() !== '') current.push(line.trim());
  }
  return offers;
}

// each line, and words it must offer (and, after `!`, words it must not)
const CASES: Array<[string, string[], string[]?]> = [
  ['angel st', ['status']],
  ['angel ch', ['check']],
  ['angel --max-m', ['--max-mem']],
  ['angel --restart ', ['on-failure', 'always', 'never']],
  ['angel --log-level ', ['info', 'debug']],
  ['angel check --ready ', ['exec', 'fd', 'notify']],
  ['angel bench --war', ['--warmup']],
  ['angel status --', ['--metrics', '--json'], ['--max-mem']],
  ['angel completion ', ['bash', 'zsh']],
  ['angel help be', ['bench']],
  ['angel --user roo', ['root']],
  ['angel -- nohu', ['nohup']],
  ['angel --max-mem 1G --cgroup -- nohu', ['nohup']],
];

function holds(line: string, offered: readonly string[], wanted: readonly string[], unwanted: readonly string[] = []): void {
  for (const word of wanted) assert.ok(offered.includes(word), `${line}| offers ${word}: ${offered.join(' ')}`);
  for (const word of unwanted) assert.ok(!offered.includes(word), `${line}| does not offer ${word}`);
}

describe('bash', () => {
  const file = script('bash');

  test('commands, flags, their values, and after -- the program', () => {
    for (const [line, wanted, unwanted] of CASES) holds(line, bashOffers(file, line), wanted, unwanted);
  });

  test('every flag of the option table, to run and to bench, and -- after them', () => {
    for (const command of ['angel -', 'angel bench -']) {
      const offered = bashOffers(file, command);
      for (const option of OPTIONS) assert.ok(offered.includes(option.flag), `${command}: ${option.flag}`);
      assert.ok(offered.includes('--'));
    }
    assert.ok(bashOffers(file, 'angel bench --').includes('--export-csv'));
  });
});

const hasZsh = spawnSync('zsh', ['-f', '-c', 'zmodload zsh/zpty'], { stdio: 'ignore' }).status === 0;

// skipped, saying so, where zsh is not installed; CI installs it (.ci/run) and fails instead
describe('zsh', { skip: hasZsh || process.env.CI ? false : 'needs zsh with its zpty module (apt-get install zsh)' }, () => {
  test('commands, flags, their values, and after -- the program', () => {
    assert.ok(hasZsh, 'zsh with zpty: CI installs it (.ci/run), and must run this test');
    const offers = zshOffers(script('zsh'), CASES.map(([line]) => line));
    for (const [line, wanted, unwanted] of CASES) holds(line, offers.get(line) ?? [], wanted, unwanted);
  });
});

test('a shell angel has no script for: a usage error', () => {
  const result = spawnSync(process.execPath, cliArgs('completion', 'fish'), { encoding: 'utf8' });
  assert.equal(result.status, 2);
  assert.equal(result.stderr, 'angel: <shell>: expected bash or zsh, got "fish"\n');
});
