// Runs the angel CLI directly (no npx: DESIGN.md) with the JSON event log, for benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI } from './compile.js';

export interface AngelProcess {
  process: ChildProcess;
  events: Array<Record<string, unknown>>;
  stdout: string[];
  /** Resolves when `predicate` holds for the events seen so far (checked on every new line). */
  until(predicate: () => boolean, timeoutMs: number): Promise<void>;
  exited: Promise<number | null>;
}

export function startAngel(args: readonly string[]): AngelProcess {
  const child = spawn(process.execPath, [CLI, '--log-format', 'json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Array<Record<string, unknown>> = [];
  const stdout: string[] = [];
  const waiters = new Set<() => void>();
  const poke = (): void => {
    for (const waiter of waiters) waiter();
  };
  createInterface({ input: child.stderr! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {}
    poke();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout.push(line);
    poke();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    process: child,
    events,
    stdout,
    exited,
    until(predicate, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        const check = (): void => {
          if (!predicate()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
  };
}
