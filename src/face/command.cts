// What bin/angel runs: the CLI as one CommonJS file (angel.cjs, esbuild's bundle of cli.js and all it imports,
// made by scripts/bundle.mjs), compiled with the V8 code cache made beside it at build time. Node 20 has no
// compile cache of its own (module.enableCompileCache came with 22.1), and a launch spent most of its time
// loading modules: ESM resolves, reads and links file by file, its reads on libuv's threadpool (four threads
// kept for the process's life), where one CommonJS file is one synchronous read; and with the cache, the
// functions a run calls before its first spawn are deserialized instead of parsed and compiled.
//
// A cache V8 rejects (another Node, other V8 flags, a bundle rebuilt without it) costs only the compile it
// would have saved: the source is compiled as without one.
//
// The two files are read the way that touches the least new memory: on a virtual machine that pays 10 us for
// each page a process touches first (the benchmarks' VM, as a C loop writing to fresh pages measures it), a
// third of what a launch adds to Node's own start is page faults. The bundle is stored as Module.wrap makes it,
// so its string is compiled as it is read (a wrapper added here would make a second string that V8 flattens into
// a third), in ASCII, so its bytes become the string by one copy (Node's UTF-8 read grows a C++ string to the
// file's size, then decodes it into V8's), and the code cache is then read into the pages that held those bytes.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import type NodeModule from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

// The CommonJS loader's Module, of which this file's own module is one: what this file uses of it (wrap's shape,
// createRequire, isBuiltin) the loader has itself. node:module, its public face, loads the ESM loader and the
// source map support with it, four built-in modules compiled at every launch, for nothing a launch uses.
const Module = module.constructor as typeof NodeModule;

/** The bundle, beside this file in dist/src/face (so that its paths relative to the package are a module's):
 * one function expression, the bundle as Module.wrap wraps a CommonJS module, in ASCII. */
export const BUNDLE = join(__dirname, 'angel.cjs');
/** V8's code cache for BUNDLE, as compileCommand compiles it. */
export const CODE_CACHE = join(__dirname, 'angel.cjs.cache');

/** The command users run (the package's bin/angel), whose sh lines exec Node on it and whose JavaScript
 * compiles the bundle with compileCommand. */
export const LAUNCHER = join(__dirname, '..', '..', '..', 'bin', 'angel');

/** The Node flags the launcher starts Node with: its `exec node … -- "$0" "$@"` line, read from the file. The
 * code cache is V8's for these flags (some are in its flag hash), so whatever runs the bundle without the sh
 * lines (`node <flags> -- bin/angel`: a test, a benchmark's profile, the build's run that fills the cache)
 * passes them, or V8 refuses the cache. */
export function launcherFlags(launcher = LAUNCHER): string[] {
  const line = /^exec node (.*) -- "\$0" "\$@"$/m.exec(readFileSync(launcher, 'utf8'));
  if (!line?.[1]) throw new Error(`${launcher}: no \`exec node … -- "$0" "$@"\` line`);
  return line[1].split(' ');
}

type Wrapper = (exports: object, require: NodeJS.Require, module: NodeModule, filename: string, dirname: string) => void;

export interface CompiledCommand {
  /** Runs the CLI: it reads process.argv as `node <script> …` gives it. */
  run(): void;
  /** Whether V8 refused the code cache (none, or made for another Node or other flags). */
  readonly cacheRejected: boolean;
  /** A code cache of everything compiled so far: after a run, the functions the run called too. */
  makeCache(): Buffer;
}

/** Fills `buffer` from the start with the file open at `fd`, `size` bytes; returns how many it read. */
function readAll(fd: number, buffer: Buffer, size: number): number {
  let read = 0;
  while (read < size) {
    const got = readSync(fd, buffer, read, size - read, read);
    if (got === 0) break; // shorter than it was at its fstat
    read += got;
  }
  return read;
}

const openIfThere = (path: string): number | undefined => {
  try {
    return openSync(path, 'r');
  } catch {
    return undefined; // built without one: compiled from source
  }
};

/** `bundle`'s source and the code cache at `cache` if there is one, read through one buffer: the bundle's bytes
 * become its string, then the cache is read over them. */
function readBundle(bundle: string, cache: string | null): { source: string; cachedData: Buffer | undefined } {
  const sourceFd = openSync(bundle, 'r');
  const cacheFd = cache === null ? undefined : openIfThere(cache);
  try {
    const sourceSize = fstatSync(sourceFd).size;
    const cacheSize = cacheFd === undefined ? 0 : fstatSync(cacheFd).size;
    const buffer = Buffer.allocUnsafeSlow(Math.max(sourceSize, cacheSize));
    const source = buffer.toString('latin1', 0, readAll(sourceFd, buffer, sourceSize));
    return { source, cachedData: cacheFd === undefined ? undefined : buffer.subarray(0, readAll(cacheFd, buffer, cacheSize)) };
  } finally {
    closeSync(sourceFd);
    if (cacheFd !== undefined) closeSync(cacheFd);
  }
}

/** Whether Node has loaded this built-in module already (its bootstrap loads fs, path, events, util, …). */
const loaded = (id: string): boolean =>
  (process as unknown as { moduleLoadList: string[] }).moduleLoadList.includes(`NativeModule ${id.replace(/^node:/, '')}`);

/** The bundle's require, which hands out a built-in module Node has not loaded yet as a stand-in that loads it
 * at its first use: the bundle requires every module it may need as it starts (child_process for commander's
 * executable subcommands, net for the control socket, crypto, tty, perf_hooks, …), and each would cost its load
 * before the first spawn whether the run used it then or not. A module may be a function (assert, stream): the
 * stand-in is one too, called or constructed as the module would be. */
export function lazyBuiltins(require: NodeJS.Require): NodeJS.Require {
  const lazy = (id: string): object => {
    let real: object | undefined;
    const load = (): object => (real ??= require(id) as object);
    // an arrow function: callable, and with no own property that a proxy must report as it is (no prototype)
    return new Proxy(() => {}, {
      get: (_target, key) => Reflect.get(load(), key),
      has: (_target, key) => Reflect.has(load(), key),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (_target, key) => {
        const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
        return descriptor && { ...descriptor, configurable: true };
      },
      apply: (_target, self, args) => Reflect.apply(load() as (...args: unknown[]) => unknown, self, args),
      construct: (_target, args, newTarget) => Reflect.construct(load() as new (...args: unknown[]) => object, args, newTarget),
    });
  };
  return Object.assign((id: string) => (Module.isBuiltin(id) && !loaded(id) ? lazy(id) : require(id)), require);
}

/** A bundle as bundle.mjs writes it (the wrapped function, ASCII), compiled with a code cache: the one at that
 * path if there is one, the one given (a test's), or none (null). */
export function compileBundle(bundle: string, cache: string | Buffer | null): CompiledCommand {
  const read = readBundle(bundle, typeof cache === 'string' ? cache : null);
  const cachedData = Buffer.isBuffer(cache) ? cache : read.cachedData;
  const script = new Script(read.source, { filename: bundle, ...(cachedData && { cachedData }) });
  return {
    run() {
      const module = new Module(bundle);
      module.filename = bundle;
      (script.runInThisContext() as Wrapper)(module.exports, lazyBuiltins(Module.createRequire(bundle)), module, bundle, dirname(bundle));
    },
    cacheRejected: cachedData === undefined || script.cachedDataRejected === true,
    makeCache: () => script.createCachedData(),
  };
}

/** angel's CLI, the bundle beside this file, compiled with its code cache (null: without it; a Buffer: with that). */
export const compileCommand = (cachedData?: Buffer | null): CompiledCommand => compileBundle(BUNDLE, cachedData === undefined ? CODE_CACHE : cachedData);
