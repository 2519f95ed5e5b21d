#!/usr/bin/env node
// npm test: every compiled test file under dist/test, in two runs side by side. The package suite (it packs the
// project and compiles the addon three times, on its own limit: its tests declare theirs) runs beside the rest,
// which run two at a time under 60 s a file: the suite is mostly waiting on processes, and the machine's second
// core is free for the compiler much of the time. The suite's output is shown as it comes, the package suite's
// after it; both results are reported, and the package suite runs whatever the other gives.
import { spawn } from 'node:child_process';
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

/** A run: the first one's output passes through, a later one's is kept and printed once those before it ended. */
function run({ name, args, files: chosen }, shown) {
  if (chosen.length === 0) return Promise.resolve({ name, status: 0, files: 0, output: [] });
  const started = Date.now();
  const child = spawn(process.execPath, ['--test', ...args, ...chosen], { stdio: shown ? 'inherit' : ['ignore', 'pipe', 'pipe'], cwd: root });
  const output = [];
  if (!shown) for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk) => output.push(chunk));
  return new Promise((resolve) => child.on('close', (status, signal) =>
    resolve({ name, status: status ?? 128, signal, files: chosen.length, seconds: (Date.now() - started) / 1000, output })));
}

const results = await Promise.all(runs.map((chosen, index) => run(chosen, index === 0)));
for (const { output } of results) for (const chunk of output) process.stdout.write(chunk);

for (const { name, status, signal, files: count, seconds } of results) {
  const outcome = status === 0 ? 'passed' : `FAILED (${signal ?? `exit ${status}`})`;
  process.stderr.write(`npm test: ${name} (${count} files, ${seconds?.toFixed(0) ?? 0} s): ${outcome}\n`);
}
process.exitCode = results.some(({ status }) => status !== 0) ? 1 : 0;
