// The floor of a Node command line built on commander, for the launch table: commander alone, bundled and
// compiled with a V8 code cache the way bin/angel loads angel's own bundle (src/face/command.cts), defining as
// many options as `angel run --help` lists and parsing one command line, then exiting. What it costs over
// `node -e 0` is what any CLI on angel's parser pays before doing anything of its own.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Module from 'node:module';
import { ROOT } from './compile.js';

/** `angel run`'s options as its --help lists them (43), and its four other commands. */
const OPTIONS = 43;
const COMMANDS = ['status', 'check', 'bench', 'completion'];

const entry = `
const { Command } = require('commander');
const program = new Command('angel');
const run = program.command('run', { isDefault: true }).argument('<program>').argument('[args...]');
for (let i = 0; i < ${OPTIONS}; i++) run.option('--option-' + i + ' <value>', 'option ' + i);
run.option('--restart <when>', 'when to restart').action(() => {});
for (const name of ${JSON.stringify(COMMANDS)}) program.command(name).option('--json').action(() => {});
program.parse(['--restart', 'never', '--', 'true'], { from: 'user' });
`;

// as bin/angel loads angel.cjs: through command.cjs (its read, its code cache, its lazy built-ins); the run that
// fills the cache writes it at its exit
const loader = (command: string): string => `
const { join } = require('node:path');
const command = require(${JSON.stringify(command)});
const bundle = join(__dirname, 'cli.cjs');
const compiled = process.argv[2] === 'fill' ? command.compileBundle(bundle, null) : command.compileBundle(bundle, bundle + '.cache');
compiled.run();
if (process.argv[2] === 'fill') process.on('exit', () => require('node:fs').writeFileSync(bundle + '.cache', compiled.makeCache()));
if (process.argv[2] === 'check' && compiled.cacheRejected) process.exitCode = 3;
`;

export interface CliFloor {
  /** `node <flags> loader.cjs`: the command to time. */
  command: string[];
  remove: () => void;
}

/** Builds the floor in a directory of its own (esbuild, angel's dev dependency) and fills its code cache under
 * `nodeFlags` (bin/angel's: V8 refuses a cache made under other flags that it hashes). */
export async function buildCliFloor(nodeFlags: readonly string[]): Promise<CliFloor> {
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'angel-bench-cli-floor-'));
  writeFileSync(join(dir, 'entry.js'), entry);
  writeFileSync(join(dir, 'loader.cjs'), loader(join(ROOT, 'dist', 'src', 'face', 'command.cjs')));
  const built = await build({
    entryPoints: [join(dir, 'entry.js')],
    outfile: join(dir, 'cli.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    nodePaths: [join(ROOT, 'node_modules')],
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
    write: false,
  });
  // stored as scripts/bundle.mjs stores angel's: wrapped as Module.wrap wraps a module, and ASCII (esbuild's default)
  writeFileSync(join(dir, 'cli.cjs'), Module.wrap(built.outputFiles[0]?.text ?? ''));
  const command = [process.execPath, ...nodeFlags, join(dir, 'loader.cjs')];
  const fill = spawnSync(command[0] as string, [...command.slice(1), 'fill'], { encoding: 'utf8' });
  if (fill.status !== 0) throw new Error(`the commander floor failed: ${fill.stderr}`);
  // the floor is only a floor with its cache taken, as bin/angel's is
  const check = spawnSync(command[0] as string, [...command.slice(1), 'check'], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`the commander floor's code cache was refused (status ${check.status}): ${check.stderr}`);
  return { command, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
