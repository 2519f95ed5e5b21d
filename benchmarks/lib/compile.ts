// Builds a benchmark's C helper (benchmarks/<name>.c -> benchmarks/bin/<name>, git-ignored) with cc -O2,
// once per run, and runs C helpers. A build that fails throws, and the row that needed it shows the error.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launcherFlags } from '../../src/face/command.cjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BENCHMARKS = join(ROOT, 'benchmarks');

export interface BuildOptions {
  /** More sources to link in, relative to the repository root (e.g. native/spawn.c); their folders are on -I. */
  with?: readonly string[];
  /** Link statically: a child that starts and dies in a loop then pays no dynamic loader. */
  static?: boolean;
}

const built = new Map<string, string>();

export function buildC(name: string, options: BuildOptions = {}): string {
  const known = built.get(name);
  if (known) return known;
  const output = join(BENCHMARKS, 'bin', name);
  mkdirSync(dirname(output), { recursive: true });
  const extra = (options.with ?? []).map((source) => join(ROOT, source));
  const includes = [...new Set(extra.map((source) => `-I${dirname(source)}`))];
  const args = ['-O2', '-Wall', ...(options.static ? ['-static'] : []), ...includes, '-o', output, join(BENCHMARKS, `${name}.c`), ...extra];
  const result = spawnSync('cc', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`cc ${name}.c: ${result.stderr || result.error?.message}`);
  built.set(name, output);
  return output;
}

export const BIN_ANGEL = join(ROOT, 'bin', 'angel');
/** The Node flags bin/angel starts Node with (src/face/command.cts reads its exec line). */
export { launcherFlags };

/** angel's modules as tsc wrote them, each its own file: the code bin/angel's bundle holds, for a profile that
 * tells angel's files apart (in the bundle they are one). */
export const UNBUNDLED_ANGEL = join(ROOT, 'dist', 'src', 'face', 'cli.js');

/** angel as users run it, the command bin/angel: itself, or, with Node flags of a benchmark's own (`--cpu-prof`,
 * which NODE_OPTIONS refuses), Node with the launcher's flags and those, on the same file (or on `script`). */
export function angelCommand(nodeFlags: readonly string[] = [], script = BIN_ANGEL): string[] {
  return nodeFlags.length === 0 && script === BIN_ANGEL ? [BIN_ANGEL] : [process.execPath, ...launcherFlags(), ...nodeFlags, '--', script];
}

/** Runs a C helper to its end (with `env`, in that environment); its stdout, or an error with its stderr. */
export function runC(binary: string, args: readonly string[], env?: NodeJS.ProcessEnv): string {
  const result = spawnSync(binary, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, ...(env && { env }) });
  if (result.status !== 0) {
    throw new Error(`${binary.slice(ROOT.length + 1)} exited ${result.status ?? result.signal}: ${result.stderr || result.error?.message}`);
  }
  return result.stdout;
}

export const parseSamples = (text: string): number[] => text.trim().split('\n').filter(Boolean).map(Number);

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
