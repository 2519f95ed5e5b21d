#!/usr/bin/env node
// npm test: every compiled test file under dist/test, in two runs. The package suite (it packs the project and
// compiles the addon three times) runs last and alone, under the limit its own tests declare; the rest run two
// at a time under 60 s a file. The package suite runs whatever the first run gave, and both results are reported.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const tests = join(root, 'dist', 'test');

/** The TypeScript a compiled test came from. */
const sourceOf = (compiled) => join(root, compiled.slice(join(root, 'dist').length + 1).replace(/\.js$/, '.ts'));

/** Every *.test.js below a directory, in a stable order. */
function testFiles(directory) {
  return readdirSync(directory, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return entry.name === 'fixtures' || entry.name === 'helpers' ? [] : testFiles(path);
      // only what the sources still hold: a test file moved or removed leaves its old build behind in dist
      return entry.name.endsWith('.test.js') && existsSync(sourceOf(path)) ? [path] : [];
    });
}

const files = testFiles(tests);
const isPackage = (file) => file.endsWith(join('e2e', 'package.test.js'));
const runs = [
  { name: 'the suite', args: ['--test-concurrency=2', '--test-timeout=60000'], files: files.filter((file) => !isPackage(file)) },
  { name: 'the package suite', args: ['--test-timeout=240000'], files: files.filter(isPackage) },
];

const results = runs.map(({ name, args, files: chosen }) => {
  if (chosen.length === 0) return { name, status: 0, files: 0 };
  const started = Date.now();
  const { status, signal } = spawnSync(process.execPath, ['--test', ...args, ...chosen], { stdio: 'inherit', cwd: root });
  return { name, status: status ?? 128, signal, files: chosen.length, seconds: (Date.now() - started) / 1000 };
});

for (const { name, status, signal, files: count, seconds } of results) {
  const outcome = status === 0 ? 'passed' : `FAILED (${signal ?? `exit ${status}`})`;
  process.stderr.write(`npm test: ${name} (${count} files, ${seconds?.toFixed(0) ?? 0} s): ${outcome}\n`);
}
process.exitCode = results.some(({ status }) => status !== 0) ? 1 : 0;
