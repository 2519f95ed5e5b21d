// What the README promises that code can hold it to: its config file section lists every key of the option
// table, in shapes that parse; its options table names every flag; its "fd 3" servers serve under angel --listen;
// its Performance table is the one benchmarks/results.md gives.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { OPTIONS, resolveOptions } from '../../src/core/options.js';
import type { Options } from '../../src/core/types.js';
import { AngelRun, ROOT } from '../helpers/events.js';
import { needs } from '../helpers/skip.js';
import { freePort } from '../../support/net.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'angel-readme-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));

/** The fenced blocks of one `### heading` section, with their languages. */
function blocks(heading: string): Array<{ language: string; code: string }> {
  const start = README.indexOf(`\n${heading}\n`);
  assert.notEqual(start, -1, `the README has a section ${heading}`);
  const end = README.slice(start + heading.length + 2).search(/\n#{1,3} /);
  const section = README.slice(start, end === -1 ? undefined : start + heading.length + 2 + end);
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(([, language = '', code = '']) => ({ language, code }));
}

describe('the config file section', () => {
  const json = blocks('### The config file').filter((block) => block.language === 'json').map((block) => JSON.parse(block.code) as Record<string, unknown>);

  test('lists every key of the option table, and the program and its arguments', () => {
    const [every] = json;
    assert.deepEqual(Object.keys(every ?? {}).sort(), ['program', 'args', ...OPTIONS.map((option) => option.key)].sort());
  });

  test('every shape it shows parses', () => {
    assert.equal(json.length, 2);
    for (const example of json) assert.doesNotThrow(() => resolveOptions({ program: 'node', ...example } as unknown as Options), JSON.stringify(example));
  });

  test('the options table names every flag', () => {
    const rows = README.split('\n').filter((line) => line.startsWith('| `--'));
    for (const option of OPTIONS) assert.ok(rows.some((row) => row.includes(`\`${option.flag} `) || row.includes(`\`${option.flag}\``)), option.flag);
  });
});

describe('your server takes its socket from fd 3', () => {
  const servers = blocks('### Your server takes its socket from fd 3');
  const code = (language: string): string => {
    const block = servers.find((candidate) => candidate.language === language);
    assert.ok(block, `a ${language} example`);
    return block.code;
  };
  const has = (command: string, args: string[]): boolean => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

  async function serves(command: string[], flags: string[] = []): Promise<void> {
    const port = await freePort();
    const run = new AngelRun(['--listen', `127.0.0.1:${port}`, ...flags, '--restart', 'never', '--', ...command]);
    try {
      await run.event('ready');
      const response = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(response.status, 200);
      assert.equal(await response.text(), 'hello\n');
      run.signal('SIGTERM');
      assert.equal(await run.status(), 143);
    } finally {
      run.kill();
    }
  }

  test('Node, ready through --ready fd', async () => {
    const file = join(scratch, 'server.mjs');
    writeFileSync(file, code('js'));
    await serves([process.execPath, file], ['--ready', 'fd']);
  });

  test('Python', { skip: needs(has('python3', ['--version']) ? false : 'needs python3') }, async () => {
    const file = join(scratch, 'server.py');
    writeFileSync(file, code('python'));
    await serves(['python3', file]);
  });

  test('Go', { skip: needs(has('go', ['version']) ? false : 'needs go (apt-get install golang-go)'), timeout: 180_000 }, async () => {
    const file = join(scratch, 'server.go');
    writeFileSync(file, code('go'));
    const binary = join(scratch, 'server');
    execFileSync('go', ['build', '-o', binary, file], { cwd: scratch, stdio: 'pipe' });
    await serves([binary]);
  });
});

describe('the Performance table', () => {
  interface Generator {
    performanceTable(results: string): string;
    withPerformanceTable(readme: string, table: string): string;
  }

  test('is what scripts/performance-table.mjs generates from benchmarks/results.md, to the character', async () => {
    const generator = (await import(pathToFileURL(join(ROOT, 'scripts', 'performance-table.mjs')).href)) as Generator;
    // no figure is written by hand: every row is copied from a section's README rows
    const results = readFileSync(join(ROOT, 'benchmarks', 'results.md'), 'utf8');
    const table = generator.performanceTable(results);
    assert.ok(README.includes(table), 'README.md\'s Performance table differs from benchmarks/results.md\'s rows: run node scripts/performance-table.mjs');
    assert.equal(generator.withPerformanceTable(README, table), README);
  });
});
