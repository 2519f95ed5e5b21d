// What bin/angel runs (src/face/command.cts): the bundle with its code cache, its built-in modules loaded at
// first use, and a process that runs it without the ESM loader or libuv's threadpool.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { COMMAND, LAUNCHER_FLAGS, ROOT } from '../helpers/events.js';
import { atTestEnd, scratchDir } from '../helpers/cleanup.js';

const scratch = scratchDir('angel-command-');
const COMMAND_MODULE = join(ROOT, 'dist', 'src', 'face', 'command.cjs');
const command = createRequire(import.meta.url)(COMMAND_MODULE) as typeof import('../../src/face/command.cjs');

/** What a fresh node prints of `script` (JSON), with command.cjs as `command`. */
function inFreshNode(script: string): unknown {
  const run = spawnSync(process.execPath, ['-e', `const command = require(${JSON.stringify(COMMAND_MODULE)}); ${script}`], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

/** Waits until `file` holds a line matching `pattern` (a writer of its own, not a pipe of this test's). */
async function lineIn(file: string, pattern: RegExp, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!readFileSync(file, 'utf8').split('\n').some((line) => pattern.test(line))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in ${file}:\n${readFileSync(file, 'utf8')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const threadsOf = (pid: number): number => Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

describe('the bundle and its code cache', () => {
  test('the code cache built beside the bundle is taken by this node under bin/angel\'s flags', () => {
    const rejected = (flags: readonly string[]): unknown => {
      const run = spawnSync(process.execPath, [...flags, '-e', `console.log(require(${JSON.stringify(COMMAND_MODULE)}).compileCommand().cacheRejected)`], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      return JSON.parse(run.stdout);
    };
    // V8 hashes flags that change what it compiles (--no-lazy, --max-lazy) into the cache: made under others, refused
    assert.equal(rejected(LAUNCHER_FLAGS), false, 'rebuild with npm run build: the cache is missing or was made for another bundle, node or flags');
  });

  test('a bundle read with its cache through one buffer: the source is whole whichever file is longer, and the cache is taken', () => {
    // a source longer than its cache, then one shorter: a comment, which no cache holds; the function after it
    // prints itself, which V8 reads from the source string at the function's place
    for (const padding of [200_000, 0]) {
      const bundle = join(scratch, `bundle-${padding}.cjs`);
      const said = join(scratch, `said-${padding}.json`);
      const body = `/*${'x'.repeat(padding)}*/ const sum = (a, b) => a + b; require('node:fs').writeFileSync(${JSON.stringify(said)}, JSON.stringify([sum(2, 3), String(sum), __filename]));`;
      writeFileSync(bundle, Module.wrap(body));
      const first = command.compileBundle(bundle, `${bundle}.cache`);
      assert.equal(first.cacheRejected, true, 'no cache written yet');
      first.run();
      assert.deepEqual(JSON.parse(readFileSync(said, 'utf8')), [5, '(a, b) => a + b', bundle]);
      const cache = first.makeCache();
      writeFileSync(`${bundle}.cache`, cache);
      assert.equal(cache.length > Buffer.byteLength(Module.wrap(body)), padding === 0, 'the case meant: which file is longer');
      rmSync(said);
      const second = command.compileBundle(bundle, `${bundle}.cache`);
      assert.equal(second.cacheRejected, false);
      second.run();
      assert.deepEqual(JSON.parse(readFileSync(said, 'utf8')), [5, '(a, b) => a + b', bundle]);
    }
  });

  test('a cache that does not fit is refused, and the bundle compiles and runs without it', () => {
    const compiled = command.compileCommand(Buffer.from('not a code cache'));
    assert.equal(compiled.cacheRejected, true);
    assert.equal(typeof compiled.makeCache, 'function');
  });
});

describe('built-in modules through the bundle\'s require', () => {
  test('one Node has not loaded is loaded at its first use, as an object or as a function', () => {
    const seen = inFreshNode(`
      const loaded = (name) => process.moduleLoadList.includes('NativeModule ' + name);
      const lazy = command.lazyBuiltins(require);
      const dgram = lazy('node:dgram');
      const assert = lazy('assert');
      const before = [loaded('dgram'), loaded('assert')];
      const kinds = [typeof dgram.createSocket, 'createSocket' in dgram, Object.keys(dgram).includes('createSocket')];
      assert(true);
      assert.equal(1, 1);
      console.log(JSON.stringify({ before, kinds, after: [loaded('dgram'), loaded('assert')], fs: lazy('node:fs') === require('node:fs') }));`);
    assert.deepEqual(seen, { before: [false, false], kinds: ['function', true, true], after: [true, true], fs: true });
  });
});

describe('the command as users run it, bin/angel', () => {
  test('runs the bundle: no module of dist/src but command.cjs is required, no built-in it does not use, and no more threads than a bare Node', async () => {
    // stderr to a file: lines to a pipe go out asynchronously, through libuv's threadpool (face/log.ts)
    const log = join(scratch, 'events.log');
    const modules = join(scratch, 'modules.json');
    const recorder = join(scratch, 'record.cjs');
    const builtins = join(scratch, 'builtins.json');
    writeFileSync(recorder, `process.on('exit', () => {
      require('fs').writeFileSync(${JSON.stringify(modules)}, JSON.stringify(Object.keys(require.cache)));
      require('fs').writeFileSync(${JSON.stringify(builtins)}, JSON.stringify(process.moduleLoadList));
    });\n`);
    const out = openSync(log, 'w');
    const angel = spawn(COMMAND, ['--log-format', 'json', '--', 'sleep', '60'], { stdio: ['ignore', out, out], env: { ...process.env, NODE_OPTIONS: `--require ${recorder}` } });
    const bareLog = join(scratch, 'bare.log');
    const bareOut = openSync(bareLog, 'w');
    // its line once it runs JavaScript: Node has started every thread of its own by then
    const bare = spawn(process.execPath, ['--inspect-port=192.0.2.1:9229', '-e', 'console.log("up"); setInterval(() => {}, 1e3)'], { stdio: ['ignore', bareOut, bareOut] });
    closeSync(out);
    closeSync(bareOut);
    atTestEnd(() => {
      angel.kill('SIGKILL');
      bare.kill('SIGKILL');
    });
    await lineIn(log, /"event":"ready"/);
    await lineIn(bareLog, /^up$/);
    const threads = threadsOf(angel.pid as number);
    const nodeThreads = threadsOf(bare.pid as number);
    angel.kill('SIGTERM');
    bare.kill('SIGTERM');
    await new Promise((resolve) => angel.once('close', resolve));
    assert.ok(threads <= nodeThreads, `angel has ${threads} threads, a bare Node ${nodeThreads}`);
    const required = (JSON.parse(readFileSync(modules, 'utf8')) as string[]).filter((path) => path !== recorder);
    const ours = required.filter((path) => path.startsWith(join(ROOT, 'dist')) || path.includes('node_modules'));
    assert.deepEqual(ours, [COMMAND_MODULE], `required besides the command's module: ${required.join(', ')}`);
    // what a run of the defaults never needs: pino's transports, a terminal's check on a file, perf_hooks, crypto;
    // node:os and node:diagnostics_channel, which pino and node-gyp-build load for what angel does not ask
    // (scripts/bundle.mjs STAND_INS), and angel itself for its tables of signals and errnos no more; node:module,
    // the loader's public face, which brings the ESM loader (command.cts and native.ts use the loader's own)
    const loaded = JSON.parse(readFileSync(builtins, 'utf8')) as string[];
    for (const name of ['worker_threads', 'tty', 'perf_hooks', 'crypto', 'os', 'diagnostics_channel', 'module', 'internal/modules/esm/loader']) {
      assert.equal(loaded.includes(`NativeModule ${name}`), false, name);
    }
  });
});
