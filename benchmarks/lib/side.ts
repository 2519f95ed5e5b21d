// A Node process beside the spawn benchmark that does its forking for it: it runs the C programs and samples
// child_process.spawn, so that the process timing angel's spawn forks nothing of its own, as the supervisor
// never does (its children start with CLONE_VM). A fork write-protects every private page of the process that
// forks, and the first write to each page after it faults; on this host the addon's spawn just after 30 calls
// of child_process.spawn in the same process took 0.76 ms, back to 0.20 ms only some 20 spawns later, so a peer
// sampled in the measuring process taxed the rows sampled after it.
//
// The side process is this file run by Node (fork, once, before any sample), told what to do over its IPC
// channel one request at a time.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runC } from './compile.js';

type Request =
  | { kind: 'run'; binary: string; args: string[] }
  | { kind: 'spawns'; program: string; count: number }
  | { kind: 'grow'; bytes: number };

type Reply = { ok: true; value: unknown } | { ok: false; message: string };

export interface GrownHeap {
  heapMiB: number;
  rssMiB: number;
}

/** Fills the V8 heap with small objects until `bytes` are in use, then collects fully, so that no concurrent
 * marking of the new heap runs beside the samples. The heap is kept until `release`. */
export function growHeap(bytes: number): GrownHeap & { release: () => void } {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  const heap: unknown[] = [];
  while (process.memoryUsage().heapUsed < bytes) {
    const chunk = new Array<{ k: number }>(2 ** 17);
    for (let k = 0; k < chunk.length; k++) chunk[k] = { k };
    heap.push(chunk);
  }
  gc?.();
  const usage = process.memoryUsage();
  return { heapMiB: Math.round(usage.heapUsed / 2 ** 20), rssMiB: Math.round(usage.rss / 2 ** 20), release: () => (heap.length = 0) };
}

/** Milliseconds since `start` (process.hrtime.bigint()): the clock both processes of the spawn benchmark time with. */
export const elapsedMs = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

/** Node emits 'spawn' once libuv's uv_spawn has seen the exec succeed (its own close-on-exec pipe). */
async function childProcessSpawns(program: string, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve, reject) => {
      const start = process.hrtime.bigint();
      const child = spawn(program, [], { stdio: 'ignore' });
      child.once('spawn', () => samples.push(elapsedMs(start)));
      child.once('error', reject);
      child.once('exit', () => resolve());
    });
  }
  return samples;
}

let kept: ReturnType<typeof growHeap> | undefined;

async function serve(request: Request): Promise<unknown> {
  switch (request.kind) {
    case 'run':
      return runC(request.binary, request.args);
    case 'spawns':
      return childProcessSpawns(request.program, request.count);
    case 'grow': {
      kept?.release();
      kept = growHeap(request.bytes);
      return { heapMiB: kept.heapMiB, rssMiB: kept.rssMiB };
    }
  }
}

export class SideProcess {
  readonly #child: ChildProcess;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  /** Forks the side process: the one fork of the measuring process, before its first sample. */
  static start(): SideProcess {
    return new SideProcess(fork(fileURLToPath(import.meta.url), ['--side'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  }

  #ask<T>(request: Request): Promise<T> {
    const asked = this.#queue.then(
      () =>
        new Promise<T>((resolve, reject) => {
          const gone = (): void => reject(new Error('the side process exited'));
          this.#child.once('exit', gone);
          this.#child.once('message', (reply: Reply) => {
            this.#child.off('exit', gone);
            if (reply.ok) resolve(reply.value as T);
            else reject(new Error(reply.message));
          });
          this.#child.send(request);
        }),
    );
    this.#queue = asked.catch(() => undefined);
    return asked;
  }

  /** A program run to its end; its standard output. */
  run(binary: string, args: readonly string[]): Promise<string> {
    return this.#ask({ kind: 'run', binary, args: [...args] });
  }

  /** `count` spawns of `program` by child_process.spawn, each to its 'spawn' event (ms). */
  childProcessSpawns(program: string, count: number): Promise<number[]> {
    return this.#ask({ kind: 'spawns', program, count });
  }

  /** The side process's heap grown to `bytes`, kept until the next grow or the end. */
  growHeap(bytes: number): Promise<GrownHeap> {
    return this.#ask({ kind: 'grow', bytes });
  }

  stop(): void {
    this.#child.kill('SIGKILL');
  }
}

if (process.argv[2] === '--side' && process.send) {
  process.on('message', (request: Request) => {
    serve(request).then(
      (value) => process.send?.({ ok: true, value } satisfies Reply),
      (error: unknown) => process.send?.({ ok: false, message: (error as Error).message } satisfies Reply),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
