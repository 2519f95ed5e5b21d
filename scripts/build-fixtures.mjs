#!/usr/bin/env node
// Compiles each test/fixtures/*.c into test/fixtures/bin/<name>, skipping those already newer than their source.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');
const bin = join(fixtures, 'bin');
mkdirSync(bin, { recursive: true });
for (const file of readdirSync(fixtures).filter((name) => name.endsWith('.c'))) {
  const source = join(fixtures, file);
  const output = join(bin, file.slice(0, -2));
  try {
    if (statSync(output).mtimeMs >= statSync(source).mtimeMs) continue;
  } catch {}
  const result = spawnSync('cc', ['-O2', '-Wall', '-o', output, source], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
