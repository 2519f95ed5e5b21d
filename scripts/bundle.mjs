#!/usr/bin/env node
// npm run build's second step, after tsc: the command as bin/angel runs it (src/face/command.cts says why).
// 1. dist/src/face/angel.cjs: tsc's dist/src/face/cli.js and everything it imports, angel's modules and its
//    dependencies, as one CommonJS module (esbuild), stored inside Module.wrap's function. The packages only some
//    runs load stay out, each `require`d from node_modules when first used: pino-pretty (pretty lines),
//    prom-client (--metrics), cli-progress (angel bench); what its dependencies load for what angel never asks of
//    them is left out (STAND_INS). Whitespace and comments go (the source is kept in memory for the process's
//    life); names stay, for the stack of a bug.
// 2. dist/src/face/angel.cjs.cache: V8's code cache of that file as a run of `angel --restart never -- sleep 0.2`
//    has compiled it at its first spawn, so that it holds the functions a launch calls up to its first spawn
//    too, and no more: every function in the cache is deserialized as the bundle is compiled and stays in
//    every angel's heap, idle or not, where one that runs only at a child's end or at angel's own compiles when it
//    first runs. Made with this node and the Node flags bin/angel's exec line gives (some are in the cache's flag
//    hash): another node, or other flags, reject it, and compile the file as it would without. A run that fails
//    (no addon yet) still leaves the cache of what it compiled, and says so.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const face = join(root, 'dist', 'src', 'face');
const bundle = join(face, 'angel.cjs');
const cache = join(face, 'angel.cjs.cache');

/** Modules the bundle's dependencies load as they are evaluated, for what angel never asks of them, each given
 * a stand-in that does what angel's use needs (a built-in the bundle loads costs every angel its module and its
 * binding in resident memory, node:os 0.2-0.3 MB, node:diagnostics_channel 0.1 MB):
 * - thread-stream, for pino's transports, which angel never uses (it writes its own destinations, face/log.ts):
 *   its worker_threads (and node:stream behind them) would otherwise be loaded with pino and kept for life;
 * - module, from which pino's transports take createRequire as pino is loaded: node:module loads the ESM loader
 *   and the source map support with it;
 * - worker_threads, asked by pino's tools only whether this is the main thread, which the command always is;
 * - node:diagnostics_channel, from which pino's tools make a tracing channel for each line it writes, traced
 *   only when something subscribes: nothing does, in a process that runs no code but angel's;
 * - node:os, whose hostname pino reads for its default base, which angel replaces (base: null, face/log.ts);
 * - os, whose arch() and platform() node-gyp-build reads, which are process.arch and process.platform. */
const STAND_INS = [
  { module: 'thread-stream', importer: /node_modules\/pino\/lib\/transport\.js$/, contents: 'module.exports = function ThreadStream() { throw new Error("pino\'s transports are not in angel\'s bundle"); };' },
  { module: 'module', importer: /node_modules\/pino\/lib\/transport\.js$/, contents: 'module.exports = { createRequire() { throw new Error("pino\'s transports are not in angel\'s bundle"); } };' },
  { module: 'worker_threads', importer: /node_modules\/pino\/lib\/tools\.js$/, contents: 'module.exports = { isMainThread: true };' },
  { module: 'node:diagnostics_channel', importer: /node_modules\/pino\/lib\/tools\.js$/, contents: 'module.exports = { tracingChannel: () => ({ hasSubscribers: false }) };' },
  { module: 'node:os', importer: /node_modules\/pino\/pino\.js$/, contents: 'module.exports = { hostname: () => undefined };' },
  { module: 'os', importer: /node_modules\/node-gyp-build\/node-gyp-build\.js$/, contents: 'module.exports = { arch: () => process.arch, platform: () => process.platform };' },
];
const used = new Set();
const standIns = {
  name: 'stand-ins',
  setup(bundler) {
    bundler.onResolve({ filter: new RegExp(`^(${[...new Set(STAND_INS.map((standIn) => standIn.module))].join('|')})$`) }, ({ path, importer }) => {
      const index = STAND_INS.findIndex((standIn) => standIn.module === path && standIn.importer.test(importer));
      if (index < 0) return undefined;
      used.add(index);
      return { path: String(index), namespace: 'stand-in' };
    });
    bundler.onLoad({ filter: /.*/, namespace: 'stand-in' }, ({ path }) => ({ contents: STAND_INS[Number(path)].contents, loader: 'js' }));
  },
};

rmSync(cache, { force: true });
const built = await build({
  entryPoints: [join(face, 'cli.js')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['pino-pretty', 'prom-client', 'cli-progress'],
  // kernel/packageroot.ts finds the package from its own file; the bundle sits as deep (dist/src/face), so its
  // own will do: import.meta.filename is the bundle's __filename, and its URL (the fallback for a Node without
  // import.meta.filename) is made only if something asks for it, where making it cost every launch 0.5 ms
  banner: { js: 'const importMeta={get url(){return require("node:url").pathToFileURL(__filename).href}};' },
  // import() as require(): the bundle is compiled as a script (no module loader behind it), and an import()
  // would start the ESM loader, whose reads run on libuv's threadpool
  supported: { 'dynamic-import': false },
  plugins: [standIns],
  // node-gyp-build's environment variables read once, at its evaluation: under a sudo that keeps them they would
  // choose which of the package's .node files root's angel loads. The bundle's copy reads none (the one it reads
  // at each resolve, the package's PREBUILD directory, is set aside by kernel/native.ts)
  define: {
    'import.meta.url': 'importMeta.url',
    'import.meta.filename': '__filename',
    ...Object.fromEntries(['PREBUILDS_ONLY', 'LIBC', 'ARM_VERSION', 'npm_config_arch', 'npm_config_platform'].map((name) => [`process.env.${name}`, 'undefined'])),
  },
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  write: false,
});
// a dependency that now loads the module another way (or no longer at all) would bring its cost back unnoticed
const unused = STAND_INS.filter((_, index) => !used.has(index));
if (unused.length > 0) throw new Error(`scripts/bundle.mjs: no stand-in taken for ${unused.map((standIn) => `${standIn.module} (${standIn.importer})`).join(', ')}`);
// cli.ts's #! line, which only a file run as a script may have: the bundle is compiled inside the function
// Module.wrap makes, and stored so wrapped, as src/face/command.cts compiles it (wrapped at run time, it would be
// a second string, which V8 flattens into a third). esbuild escapes what is not ASCII (its default charset),
// which command.cts's read relies on: each byte one character
const wrapped = Module.wrap(built.outputFiles[0].text.replace(/^#!.*\n/, ''));
const foreign = /[^\x00-\x7f]/.exec(wrapped);
if (foreign) throw new Error(`scripts/bundle.mjs: the bundle holds a character that is not ASCII at ${foreign.index} (esbuild's charset option)`);
writeFileSync(bundle, wrapped);

// the run that fills the cache: the CLI as bin/angel runs it, in a child, the cache written as it makes its
// first spawn (the addon's spawn, wrapped as the addon is loaded), before the work that follows a spawn (the
// event log, pino, the instance's record) has compiled anything: that compiles when first run, after the spawn,
// where it was deserialized before it with the rest (a cache some 80 KB smaller, 0.7 ms less before the first
// spawn); or as it exits, if it never gets that far
const fill = `
const { writeFileSync } = require('node:fs');
const command = require(${JSON.stringify(join(face, 'command.cjs'))});
const compiled = command.compileCommand(null);
let written = false;
const write = () => {
  if (!written) writeFileSync(command.CODE_CACHE, compiled.makeCache());
  written = true;
};
const dlopen = process.dlopen;
process.dlopen = (module, path, ...rest) => {
  dlopen.call(process, module, path, ...rest);
  const { spawn } = module.exports;
  // the addon's properties are read-only: its exports are replaced by a copy whose spawn writes the cache first
  if (typeof spawn === 'function') module.exports = { ...module.exports, spawn: (...args) => (write(), spawn(...args)) };
};
process.on('exit', write); // a run that failed before its first spawn: what it compiled
process.argv.splice(1, 0, command.BUNDLE); // as \`node <script> …\` gives it
compiled.run();`;
// bin/angel's `exec node <flags> -- "$0" "$@"` line, as tsc's command.cjs reads it: the cache is V8's for these flags
const { launcherFlags } = createRequire(import.meta.url)(join(face, 'command.cjs'));
const run = spawnSync(process.execPath, [...launcherFlags(), '-e', fill, '--', '--restart', 'never', '--log-format', 'json', '--', 'sleep', '0.2'], {
  cwd: root,
  encoding: 'utf8',
  stdio: ['ignore', 'ignore', 'pipe'],
});
if (run.status !== 0) {
  const why = run.error?.message ?? run.stderr.split('\n').find((line) => /^\w*Error\b|^angel: /.test(line))?.slice(0, 300);
  console.error(`angel: the code cache holds only what compiled before the run failed (${why || `status ${run.status ?? run.signal}`})`);
}
