// What bin/angel runs: the CLI as one CommonJS file (angel.cjs, esbuild's bundle of cli.js and all it imports,
// made by scripts/bundle.mjs), compiled with the V8 code cache made beside it at build time. Node 20 has no
// compile cache of its own (module.enableCompileCache came with 22.1), and a launch spent most of its time
// loading modules: ESM resolves, reads and links file by file, its reads on libuv's threadpool (four threads
// kept for the process's life), where one CommonJS file is one synchronous read; and with the cache, the
// functions a run calls before its first spawn are deserialized instead of parsed and compiled.
//
// A cache V8 rejects (another Node, other V8 flags, a bundle rebuilt without it) costs only the compile it
// would have saved: the source is compiled as without one.
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';

/** The bundle, beside this file in dist/src/face (so that its paths relative to the package are a module's). */
export const BUNDLE = join(__dirname, 'angel.cjs');
/** V8's code cache for BUNDLE, as compileCommand compiles it. */
export const CODE_CACHE = join(__dirname, 'angel.cjs.cache');

type Wrapper = (exports: object, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;

export interface CompiledCommand {
  /** Runs the CLI: it reads process.argv as `node <script> …` gives it. */
  run(): void;
  /** Whether V8 refused the code cache (none, or made for another Node or other flags). */
  readonly cacheRejected: boolean;
  /** A code cache of everything compiled so far: after a run, the functions the run called too. */
  makeCache(): Buffer;
}

function readCache(): Buffer | undefined {
  try {
    return readFileSync(CODE_CACHE);
  } catch {
    return undefined; // built without one: compiled from source
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

/** The bundle compiled as CommonJS compiles a module (Module.wrap: the same source, so the same cache). */
export function compileCommand(cachedData: Buffer | undefined = readCache()): CompiledCommand {
  const script = new Script(Module.wrap(readFileSync(BUNDLE, 'utf8')), { filename: BUNDLE, ...(cachedData && { cachedData }) });
  return {
    run() {
      const module = new Module(BUNDLE);
      module.filename = BUNDLE;
      (script.runInThisContext() as Wrapper)(module.exports, lazyBuiltins(Module.createRequire(BUNDLE)), module, BUNDLE, __dirname);
    },
    cacheRejected: cachedData === undefined || script.cachedDataRejected === true,
    makeCache: () => script.createCachedData(),
  };
}
