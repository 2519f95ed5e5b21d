// What the README promises that code can hold it to: its config file section lists every key of the option
// table, in shapes that parse; its options table names every flag; the tarball it names is the one npm pack
// makes; its headline Node server loses no request through 20 reloads under load; its TypeScript compiles, and
// its library host ends its worker gracefully on Ctrl-C; its Performance table is the one benchmarks/results.md
// gives. (Its examples are run by examples.test.ts.)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test, type TestContext } from 'node:test';
import { OPTIONS, resolveOptions } from '../../src/core/options.js';
import type { Options } from '../../src/core/types.js';
import { AngelRun, ROOT } from '../helpers/events.js';
import { block, blocks, README } from '../helpers/readme.js';
import { Load } from '../../support/load.js';
import { freePort } from '../../support/net.js';

const scratch = mkdtempSync(join(tmpdir(), 'angel-readme-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));

describe('the config file section', () => {
  const json = blocks().filter((candidate) => candidate.heading === 'The config file' && candidate.language === 'json')
    .map((candidate) => JSON.parse(candidate.code) as Record<string, unknown>);

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

test('every tarball the README names is the one npm pack makes of this version', () => {
  const { name, version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const named = [...README.matchAll(/angel-supervisor-[\w.-]+?\.tgz/g)].map(([file]) => file);
  assert.ok(named.length >= 3, 'the install lines and the Dockerfile');
  for (const file of named) assert.equal(file, `${name}-${version}.tgz`);
  const dockerfile = readFileSync(join(ROOT, 'examples', 'kubernetes', 'Dockerfile'), 'utf8');
  for (const [file] of dockerfile.matchAll(/angel-supervisor-[\w.-]+?\.tgz/g)) assert.equal(file, `${name}-${version}.tgz`);
});

describe('the Node server of the README', () => {
  const server = join(scratch, 'server.mjs');
  writeFileSync(server, block('Your server takes its socket from fd 3, and drains on SIGTERM', 'js'));

  /** Three client loops, each a request at a time on a fresh connection, as `curl` in a loop makes them. */
  function loads(t: TestContext, run: AngelRun, port: number): Load[] {
    const clients = [new Load(port), new Load(port), new Load(port)];
    t.after(async () => {
      run.kill();
      await Promise.all(clients.map((client) => client.stop()));
    });
    return clients;
  }

  test('drains on SIGTERM: 20 reloads under three client loops, and no request fails', { timeout: 120_000 }, async (t) => {
    const port = await freePort();
    const run = new AngelRun(['--listen', `127.0.0.1:${port}`, '--ready', 'fd', '--', process.execPath, server]);
    await run.event('ready');
    const clients = loads(t, run, port);
    const exits = await run.reloads(20, () => Promise.all(clients.map((client) => client.answered(2))), 30_000);
    assert.deepEqual(exits.map((exit) => exit.code), Array(20).fill(0), 'each old generation drained and exited 0');
    const results = await Promise.all(clients.map((client) => client.stop()));
    run.signal('SIGTERM');
    assert.equal(await run.status(), 0);
    const answered = results.reduce((sum, result) => sum + result.ok, 0);
    assert.ok(answered >= 120, `${answered} answered`);
    assert.deepEqual(results.flatMap((result) => result.errors), [], 'no request failed');
    assert.equal(results.reduce((sum, result) => sum + result.failed, 0), 0);
  });
});

describe('the TypeScript of the README', () => {
  const snippets = blocks().filter((candidate) => candidate.language === 'ts');
  const project = join(scratch, 'library');
  const compiled = (index: number): string => join(project, 'out', `snippet-${index}.js`);

  test('every snippet compiles with tsc, strict, against the package\'s own types', { timeout: 120_000 }, () => {
    assert.ok(snippets.length >= 1);
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    // the package as an installed dependency resolves: its package.json's exports and types
    symlinkSync(ROOT, join(project, 'node_modules', 'angel-supervisor'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true, outDir: 'out',
        types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')], skipLibCheck: true,
      },
      include: ['snippet-*.ts'],
    }));
    snippets.forEach((snippet, index) => writeFileSync(join(project, `snippet-${index}.ts`), snippet.code));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      execFileSync(process.execPath, [tsc, '-p', join(project, 'tsconfig.json')], { encoding: 'utf8' });
    } catch (error) {
      assert.fail(`tsc: ${(error as { stdout?: string }).stdout ?? String(error)}`);
    }
  });

  test('the library host ends its worker gracefully on Ctrl-C (SIGINT), which left to Node would SIGKILL it', { timeout: 60_000 }, async () => {
    const index = snippets.findIndex((snippet) => snippet.heading === 'Library');
    assert.notEqual(index, -1, 'a snippet under Library');
    writeFileSync(join(project, 'worker.js'), [
      "process.on('SIGINT', () => { console.log('worker got SIGINT'); process.exit(0); });",
      "console.log('worker ready');",
      'setInterval(() => {}, 1000);',
    ].join('\n'));
    const env = { ...process.env, PATH: [dirname(process.execPath), process.env.PATH].join(delimiter) };
    const host = new AngelRun([], { line: `exec "${process.execPath}" "${compiled(index)}"`, cwd: project, env });
    await host.line(/^worker ready$/);
    host.signal('SIGINT');
    await host.line(/^worker got SIGINT$/);
    assert.equal(await host.status(), 0, `the host exits with the worker's status: ${host.stderrText.join('\n')}`);
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
