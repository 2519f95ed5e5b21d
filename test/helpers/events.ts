// Runs the angel CLI as a real process and reads its JSON event log (stderr) and the child's output
// (stdout) as streams; tests wait for a predicate with a deadline, never for a fixed time. angel writes an
// event a turn of its event loop after the fact, and on another pipe than the child's output, so a child's
// line says nothing about which of angel's events are in yet: a test waits for the event itself, and counts
// events only once angel has exited. Every run ends with the test that started it, with its children.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { launcherFlags } from '../../src/face/command.cjs';
import { statFields, treePids } from '../../src/kernel/proctree.js';
import { controlSocketOf } from '../../src/kernel/runtime.js';
import { inCgroup } from '../../support/cgroup.js';
import { atTestEnd } from './cleanup.js';

/** The checkout: the compiled helpers are in dist/test/helpers. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The command as users run it: bin/angel starts node with the inspector shut, then CLI. */
export const COMMAND = join(ROOT, 'bin', 'angel');
/** The Node flags bin/angel starts Node with (its `exec node … -- "$0" "$@"` line). Some are in the code cache's
 * flag hash: a test that runs `node … CLI` passes them, or V8 refuses the cache and the bundle compiles afresh. */
export const LAUNCHER_FLAGS: readonly string[] = launcherFlags(COMMAND);
/** The arguments of `node <LAUNCHER_FLAGS> -- bin/angel <args>` for process.execPath: the command without its sh
 * guard lines (Node reads bin/angel as CommonJS and runs the bundle with its code cache). */
export const cliArgs = (...args: readonly string[]): string[] => [...LAUNCHER_FLAGS, '--', COMMAND, ...args];
export const fixture = (name: string): string => join(ROOT, 'test', 'fixtures', 'bin', name);
/** A fixture that is not compiled (a script), by its file name. */
export const fixtureSource = (name: string): string => join(ROOT, 'test', 'fixtures', name);

export interface AngelEventLine {
  event: string;
  [key: string]: unknown;
}

interface Waiter<T> {
  predicate: (item: T) => boolean;
  resolve: (item: T) => void;
  reject: (why: string) => void;
}

/** A stream of items that can be awaited by predicate; each wait starts from the first item seen. */
class Stream<T> {
  readonly items: T[] = [];
  #waiters: Waiter<T>[] = [];
  /** Why no item will come any more (the pipe closed): a wait then fails at once instead of at its deadline. */
  #ended: string | null = null;

  push(item: T): void {
    this.items.push(item);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.predicate(item)) return true;
      waiter.resolve(item);
      return false;
    });
  }

  /** No item comes any more: every wait still pending fails now, and every later one at once. */
  end(why: string): void {
    this.#ended = why;
    for (const waiter of this.#waiters) waiter.reject(why);
    this.#waiters = [];
  }

  waitFor(predicate: (item: T) => boolean, what: string, timeoutMs: number, from = 0): Promise<T> {
    const seen = this.items.slice(from).find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    const failure = (why: string): Error => new Error(`${why} waiting for ${what}; saw:\n${this.items.map((item) => JSON.stringify(item)).join('\n')}`);
    if (this.#ended !== null) return Promise.reject(failure(this.#ended));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(failure(`timed out after ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({
        predicate,
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
        reject: (why) => {
          clearTimeout(timer);
          reject(failure(why));
        },
      });
    });
  }
}

/** A signal to a process (or, negative, a group) that may be gone already. */
function signal(target: number, name: NodeJS.Signals): void {
  try {
    process.kill(target, name);
  } catch {} // ESRCH: gone meanwhile
}

export class AngelRun {
  readonly process: ChildProcessWithoutNullStreams;
  readonly events = new Stream<AngelEventLine>();
  readonly stdout = new Stream<string>();
  readonly stderrText: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** angel has exited and its stderr is read to its end: the log is whole. */
  #logRead = false;
  /** angel runs under sh (`line`): signals for angel go to the child's parent. */
  readonly #shell: boolean;

  /** `prefix` runs angel under another command, e.g. `unshare --pid --fork --mount-proc` to make it PID 1.
   * `cgroup`: a cgroup v1 or v2 directory angel is started in (a shell writes itself into its cgroup.procs, then
   * execs the command). `cli`: another angel, a script run by this node or a command (an installed bin).
   * `line`: a command line run by sh as written, in `cwd` (an example of the README's: `args` are not used, and
   * the log is JSON only as angel's default off a terminal makes it). */
  constructor(
    args: readonly string[],
    options: { json?: boolean; env?: NodeJS.ProcessEnv; cli?: string; prefix?: readonly string[]; cgroup?: string; line?: string; cwd?: string } = {},
  ) {
    const jsonArgs = options.json === false ? [] : ['--log-format', 'json'];
    // a script's `--` as bin/angel's: Node 20 reads an --env-file anywhere before one, angel's arguments included
    const angel = options.cli === undefined ? [COMMAND] : options.cli.endsWith('.js') ? [process.execPath, '--', options.cli] : [options.cli];
    const command = [...(options.prefix ?? []), ...angel, ...jsonArgs, ...args];
    const env = options.env ?? process.env;
    this.#shell = options.line !== undefined;
    const argv = options.line !== undefined ? ['/bin/sh', '-c', options.line] : options.cgroup === undefined ? command : inCgroup(options.cgroup, command);
    this.process = spawn(argv[0] as string, argv.slice(1), { env, cwd: options.cwd });
    createInterface({ input: this.process.stdout })
      .on('line', (line) => this.stdout.push(line))
      .on('close', () => this.stdout.end(`stdout closed (angel and its children are gone); angel's log:\n${this.stderrText.join('\n')}\nand its stdout`));
    createInterface({ input: this.process.stderr })
      .on('close', () => this.events.end(`angel's log closed (angel has exited); its other lines:\n${this.stderrText.filter((line) => !line.startsWith('{')).join('\n')}\nand its events`))
      .on('line', (line) => {
        this.stderrText.push(line);
        try {
          const parsed = JSON.parse(line) as AngelEventLine;
          if (typeof parsed.event === 'string') this.events.push(parsed);
        } catch {
          // not an event line (a usage error, or the child's own stderr)
        }
      });
    this.exited = new Promise((resolve) =>
      this.process.on('close', (code, signal) => {
        this.#logRead = true;
        resolve({ code, signal });
      }),
    );
    atTestEnd(() => {
      this.kill();
      // a process that still escaped (one exiting as the tree was read, whose children were adopted after it)
      // must not hold this test file's process open through angel's output pipes, which it inherited
      this.process.stdout.destroy();
      this.process.stderr.destroy();
    });
  }

  event(name: string, match: (event: AngelEventLine) => boolean = () => true, timeoutMs = 10_000): Promise<AngelEventLine> {
    return this.events.waitFor((event) => event.event === name && match(event), `event ${name}`, timeoutMs);
  }

  line(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    return this.stdout.waitFor((line) => pattern.test(line), `stdout ${pattern}`, timeoutMs);
  }

  /** How many events of this kind angel wrote in all: known once its log is read to the end (status() has
   * returned), so asked before, it throws. */
  count(name: string): number {
    if (!this.#logRead) throw new Error(`count('${name}') while angel runs: await status() first, or wait for the event itself`);
    return this.events.items.filter((event) => event.event === name).length;
  }

  /** How many events of this kind were read so far: a lower bound while angel runs (its log lags by a turn),
   * for asserting that something has NOT happened yet, or that an awaited event was seen. */
  seenSoFar(name: string): number {
    return this.events.items.filter((event) => event.event === name).length;
  }

  #running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** The children angel started and did not report ended, by its log. */
  #unreaped(): number[] {
    const ended = new Set(this.events.items.filter((event) => event.event === 'exit').map((event) => event.pid));
    return this.events.items.filter((event) => event.event === 'start' && !ended.has(event.pid)).map((event) => event.pid as number);
  }

  /**
   * Ends angel and its children, for a test that ended before angel did: no process outlives its test. A
   * SIGKILLed angel leaves its children running (they lead their own sessions), so they are killed with their
   * process groups. Their pids come from /proc rather than from the log, whose last 'start' may not be written
   * yet, and the whole tree is frozen first, angel and every process under it, until a read of the tree finds
   * no process not yet stopped: a child forking as the tree was read (a generation's sh starting its setsid
   * daemon) would otherwise leave a process outside its group and the list, holding the test's pipes open after
   * the test. (A process-directed SIGSTOP, once sent, aborts a fork not yet done, so a read after it sees every
   * child there will be.) If angel had already died of a signal, its log is all there is.
   */
  kill(): void {
    const pid = this.process.pid;
    if (pid === undefined) return;
    let children: number[];
    if (this.#running()) {
      const stopped = new Set<number>();
      for (let fresh = [pid]; fresh.length > 0; fresh = treePids(pid).filter((member) => !stopped.has(member))) {
        for (const member of fresh) {
          signal(member, 'SIGSTOP');
          stopped.add(member);
        }
      }
      children = [...stopped].filter((member) => member !== pid);
      signal(pid, 'SIGKILL');
    } else if (this.process.signalCode !== null) {
      children = this.#unreaped();
    } else {
      return; // it exited on its own, and ended its children first
    }
    for (const child of children) {
      signal(-child, 'SIGKILL');
      signal(child, 'SIGKILL'); // one that left its group
    }
  }

  signal(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }

  /** SIGHUP, `count` times: each once the previous reload's old generation has exited and `between` (the clients'
   * answers, say) has resolved. Returns the old generations' exits, in order. */
  async reloads(count: number, between: () => Promise<unknown>, timeoutMs = 15_000): Promise<AngelEventLine[]> {
    const exits: AngelEventLine[] = [];
    for (let generation = 1; generation <= count; generation++) {
      this.signal('SIGHUP');
      exits.push(await this.event('exit', (event) => event.generation === generation - 1, timeoutMs));
      await between();
    }
    return exits;
  }

  /** A signal to angel itself: the process started, or for a command line run by sh, the parent of the child
   * angel started (sh waits for angel, and exits with its status). */
  /** Waits until angel has recorded `generation` in its runtime instance (gen.<n>, beside its control socket):
   * what a next angel's sweep proves its leftovers by after a `kill -9`. The record is written just after the
   * spawn, and the child (yielded the CPU) may start its own children before it: a test that kills angel for the
   * sweep to clean up waits for the record, not only for the child. */
  async recorded(generation = 0, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const pid = this.process.pid as number;
    for (;;) {
      try {
        if (existsSync(join(dirname(controlSocketOf(pid)), `gen.${generation}`))) return;
      } catch {} // no control socket yet
      if (Date.now() > deadline) throw new Error(`angel did not record generation ${generation} within ${timeoutMs} ms; stderr:\n${this.stderrText.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async signalAngel(name: NodeJS.Signals): Promise<void> {
    if (!this.#shell) return this.signal(name);
    const start = await this.event('start');
    const parent = Number(statFields(start.pid as number)?.[1]);
    assert.ok(parent > 1, `angel, the parent of ${String(start.pid)}`);
    signal(parent, name);
  }

  /** The exit status, with a deadline so a hung angel fails the test instead of the whole run. */
  async status(timeoutMs = 15_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill();
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
