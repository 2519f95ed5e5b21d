// Runs the angel CLI as a real process and reads its JSON event log (stderr) and the child's output
// (stdout) as streams; tests wait for a predicate with a deadline, never for a fixed time.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI = join(root, 'dist', 'src', 'face', 'cli.js');
export const fixture = (name: string): string => join(root, 'test', 'fixtures', 'bin', name);

export interface AngelEventLine {
  event: string;
  [key: string]: unknown;
}

interface Waiter<T> {
  predicate: (item: T) => boolean;
  resolve: (item: T) => void;
}

/** A stream of items that can be awaited by predicate; each wait starts from the first item seen. */
class Stream<T> {
  readonly items: T[] = [];
  #waiters: Waiter<T>[] = [];

  push(item: T): void {
    this.items.push(item);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.predicate(item)) return true;
      waiter.resolve(item);
      return false;
    });
  }

  waitFor(predicate: (item: T) => boolean, what: string, timeoutMs: number, from = 0): Promise<T> {
    const seen = this.items.slice(from).find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; saw:\n${this.items.map((item) => JSON.stringify(item)).join('\n')}`)), timeoutMs);
      this.#waiters.push({
        predicate,
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
      });
    });
  }
}

export class AngelRun {
  readonly process: ChildProcessWithoutNullStreams;
  readonly events = new Stream<AngelEventLine>();
  readonly stdout = new Stream<string>();
  readonly stderrText: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** `cgroup`: a cgroup v1 or v2 directory angel is started in (a shell writes itself into its cgroup.procs, then
   * execs angel). */
  constructor(args: readonly string[], options: { json?: boolean; env?: NodeJS.ProcessEnv; cli?: string; cgroup?: string } = {}) {
    const jsonArgs = options.json === false ? [] : ['--log-format', 'json'];
    const argv = [options.cli ?? CLI, ...jsonArgs, ...args];
    this.process = options.cgroup === undefined
      ? spawn(process.execPath, argv, { env: options.env ?? process.env })
      : spawn('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', options.cgroup, process.execPath, ...argv], { env: options.env ?? process.env });
    createInterface({ input: this.process.stdout }).on('line', (line) => this.stdout.push(line));
    createInterface({ input: this.process.stderr }).on('line', (line) => {
      this.stderrText.push(line);
      try {
        const parsed = JSON.parse(line) as AngelEventLine;
        if (typeof parsed.event === 'string') this.events.push(parsed);
      } catch {
        // not an event line (a usage error, or the child's own stderr)
      }
    });
    this.exited = new Promise((resolve) => this.process.on('close', (code, signal) => resolve({ code, signal })));
  }

  event(name: string, match: (event: AngelEventLine) => boolean = () => true, timeoutMs = 10_000): Promise<AngelEventLine> {
    return this.events.waitFor((event) => event.event === name && match(event), `event ${name}`, timeoutMs);
  }

  line(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    return this.stdout.waitFor((line) => pattern.test(line), `stdout ${pattern}`, timeoutMs);
  }

  count(name: string): number {
    return this.events.items.filter((event) => event.event === name).length;
  }

  /** Ends angel (and so its child) if a test failed before it could: no process outlives its test. */
  kill(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
  }

  signal(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }

  /** The exit status, with a deadline so a hung angel fails the test instead of the whole run. */
  async status(timeoutMs = 15_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.process.kill('SIGKILL');
        reject(new Error(`angel did not exit within ${timeoutMs} ms; stderr:\n${this.stderrText.join('\n')}`));
      }, timeoutMs);
    });
    try {
      const { code } = await Promise.race([this.exited, deadline]);
      return code;
    } finally {
      clearTimeout(timer);
    }
  }
}
