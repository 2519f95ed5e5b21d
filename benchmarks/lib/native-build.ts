// Compiles a benchmark's C helper (benchmarks/<name>.c -> benchmarks/bin/<name>) once per run.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SOURCES = join(ROOT, 'benchmarks');
export const CLI = join(ROOT, 'dist', 'src', 'cli.js');

export function buildC(name: string): string {
  const output = join(SOURCES, 'bin', name);
  mkdirSync(dirname(output), { recursive: true });
  const result = spawnSync('cc', ['-O2', '-Wall', '-o', output, join(SOURCES, `${name}.c`)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`cc ${name}.c: ${result.stderr}`);
  return output;
}

export function runC(binary: string, args: readonly string[]): string {
  const result = spawnSync(binary, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (result.status !== 0) throw new Error(`${binary} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

export const parseSamples = (text: string): number[] => text.trim().split('\n').filter(Boolean).map(Number);
