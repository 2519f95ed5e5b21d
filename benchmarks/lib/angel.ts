// Runs angel as users run it (bin/angel, no npx: docs/ARCHITECTURE.md) with the JSON event log, for benchmarks. The log goes to
// a pipe read line by line, or (quiet) to a file read every 50 ms, so that the benchmark process is not
// woken for every line and does not compete for the CPU with angel and its child while they are timed.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { inCgroup } from '../../support/cgroup.js';
import { angelCommand } from './compile.js';

export interface AngelProcess {
  process: ChildProcess;
  /** The event log so far (with `quiet`, as of the last poll). */
  events: Array<Record<string, unknown>>;
  /** How many events of this kind came so far (cheap enough to ask on every line). */
  count(event: string): number;
  /** The child's stdout lines (angel's stdout is the child's). */
  stdout: string[];
  /** Resolves when `predicate` holds (checked on every new line, or every poll). */
  until(predicate: () => boolean, timeoutMs: number): Promise<void>;
  /** angel's exit status, once every line of its log has been read. */
  exited: Promise<number | null>;
}

export interface AngelOptions {
  /** The event log to a file read every 50 ms instead of a pipe read per line. */
  quiet?: boolean;
  /** A cgroup directory to start angel in (a container's, say): its first process writes itself in, then execs. */
  cgroup?: string;
  /** Flags for angel's Node before its script (`--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeFlags?: readonly string[];
  /** The script Node runs instead of bin/angel (compile.ts's UNBUNDLED_ANGEL, for a profile by file). */
  script?: string;
}

let quietRuns = 0;

export function startAngel(args: readonly string[], options: AngelOptions = {}): AngelProcess {
  const logPath = join(tmpdir(), `angel-bench-events-${process.pid}-${quietRuns++}.ndjson`);
  const logFd = options.quiet ? openSync(logPath, 'w+') : -1;
  const command = [...angelCommand(options.nodeFlags, options.script), '--log-format', 'json', ...args];
  const argv = options.cgroup === undefined ? command : inCgroup(options.cgroup, command);
  const child = spawn(argv[0] as string, argv.slice(1), {
    stdio: ['ignore', 'pipe', options.quiet ? logFd : 'pipe'],
  });
  const events: Array<Record<string, unknown>> = [];
  const counts = new Map<string, number>();
  const stdout: string[] = [];
  const waiters = new Set<() => void>();
  let status: number | null | undefined; // set once angel has exited
  const poke = (): void => {
    for (const waiter of waiters) waiter();
  };
  const take = (line: string): void => {
    try {
      const event = JSON.parse(line) as Record<string, unknown>;
      events.push(event);
      counts.set(String(event.event), (counts.get(String(event.event)) ?? 0) + 1);
    } catch {}
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout.push(line);
    poke();
  });

  let exited: Promise<number | null>;
  if (options.quiet) {
    let offset = 0;
    let partial = '';
    const buffer = Buffer.alloc(1 << 20);
    const poll = (): void => {
      for (let length; (length = readSync(logFd, buffer, 0, buffer.length, offset)) > 0; offset += length) {
        const lines = (partial + buffer.toString('utf8', 0, length)).split('\n');
        partial = lines.pop() ?? '';
        lines.forEach(take);
      }
      poke();
    };
    const timer = setInterval(poll, 50);
    exited = new Promise((resolve) =>
      child.on('close', (code) => {
        clearInterval(timer);
        poll();
        closeSync(logFd);
        rmSync(logPath, { force: true });
        status = code;
        poke();
        resolve(code);
      }),
    );
  } else {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      take(line);
      poke();
    });
    exited = new Promise((resolve) =>
      child.on('close', (code) => {
        status = code;
        poke();
        resolve(code);
      }),
    );
  }

  return {
    process: child,
    events,
    count: (event) => counts.get(event) ?? 0,
    stdout,
    exited,
    until(predicate, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms (${events.length} events, last: ${JSON.stringify(events.at(-1) ?? null)})`));
        }, timeoutMs);
        const check = (): void => {
          const done = predicate();
          if (!done && status === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          if (done) resolve();
          else reject(new Error(`angel exited ${status} first (last event: ${JSON.stringify(events.at(-1) ?? null)})`));
        };
        waiters.add(check);
        check();
      });
    },
  };
}
