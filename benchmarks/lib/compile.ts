// Compiles a benchmark's C helper (benchmarks/<name>.c -> benchmarks/bin/<name>, git-ignored) once per run.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SOURCES = join(ROOT, 'benchmarks');
export const CLI = join(ROOT, 'dist', 'src', 'cli.js');

export interface BuildOptions {
  /** More sources to link in, relative to the repository root (e.g. native/spawn.c); their folders are on -I. */
  with?: readonly string[];
}

export function buildC(name: string, options: BuildOptions = {}): string {
  const output = join(SOURCES, 'bin', name);
  mkdirSync(dirname(output), { recursive: true });
  const extra = (options.with ?? []).map((source) => join(ROOT, source));
  const includes = [...new Set(extra.map((source) => `-I${dirname(source)}`))];
  const args = ['-O2', '-Wall', ...includes, '-o', output, join(SOURCES, `${name}.c`), ...extra];
  const result = spawnSync('cc', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`cc ${name}.c: ${result.stderr || result.error?.message}`);
  return output;
}

export function runC(binary: string, args: readonly string[]): string {
  const result = spawnSync(binary, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (result.status !== 0) throw new Error(`${binary} exited ${result.status}: ${result.stderr || result.error?.message}`);
  return result.stdout;
}

export const parseSamples = (text: string): number[] => text.trim().split('\n').filter(Boolean).map(Number);
