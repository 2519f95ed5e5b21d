// One generation of the child: its process, its sampler, its readiness probe and its two timers (the
// readiness deadline and the kill deadline), each armed and cleared here and nowhere else. It reports what
// happens to it and does what it is told (stop, kill); what any of it means is the lifecycle's call.
import { performance } from 'node:perf_hooks';
import type { GenerationCgroup } from '../kernel/generationcgroup.js';
import { treePids, type TreeSample } from '../kernel/proctree.js';
import type { ReadyMode } from '../core/readiness.js';
import { closeReadyPipe, probeReady, type ReadyPipe, type ReadyProbe } from '../kernel/ready.js';
import { Sampler } from '../kernel/sampler.js';
import { signalNumber, type SignalLike } from '../core/signames.js';
import { spawnChild, type ChildExit, type ChildProcess, type SpawnOptions } from '../kernel/spawn.js';

/** What a generation reports, each with itself as the first argument. */
export interface GenerationSink {
  ready(generation: GenerationHandle, readyAt: number): void;
  sample(generation: GenerationHandle, sample: TreeSample): void;
  readyTimeout(generation: GenerationHandle): void;
  deadline(generation: GenerationHandle): void;
  exited(generation: GenerationHandle, exit: ChildExit, at: number): void;
  /** The kernel's OOM killer killed a process of the generation's cgroup (--cgroup). */
  oomKill(generation: GenerationHandle): void;
}

export interface GenerationSpec {
  number: number;
  spawn: SpawnOptions;
  ready: ReadyMode;
  /** The pipe of `--ready fd`, whose write end is in spawn.fds. */
  readyPipe: ReadyPipe | null;
  readyTimeoutMs: number;
  /** Sample the tree's RSS (the cgroup's working set) this often; null: no --max-mem, no sampling. */
  sampleIntervalMs: number | null;
  /** --cgroup: the generation's own cgroup, made for it; the child starts in it, and it goes with the generation. */
  cgroup: GenerationCgroup | null;
}

/** What the driver needs of a generation; tests drive the supervisor with their own. */
export interface GenerationHandle {
  readonly number: number;
  readonly pid: number;
  /** When the spawn was asked for, and when it returned with the child exec'd (performance.now()). */
  readonly spawnAt: number;
  readonly execAt: number;
  readonly exit: ChildExit | undefined;
  /** The highest tree RSS sampled, or null when nothing was sampled. */
  readonly peakRssBytes: number | null;
  /** With --cgroup, once it has exited: the kernel's OOM killer killed a process of its cgroup. */
  readonly oomKilled?: boolean;
  /** The overrun judge's count of consecutive samples over the cap (overrun.ts). */
  samplesOver: number;
  /** Starts watching: exit, samples, readiness. Reports only from here on. */
  begin(sink: GenerationSink): void;
  /** The signal to the tree, SIGCONT, and `deadline` after `killTimeoutMs`. */
  stop(signal: NodeJS.Signals, killTimeoutMs: number): void;
  kill(): void;
  /** Signals the child itself (not its tree); false once it has exited. */
  signal(signal: SignalLike): boolean;
  /** Stops every timer, the sampler and the probe. */
  dispose(): void;
}

export type StartGeneration = (spec: GenerationSpec) => GenerationHandle;

export class Generation implements GenerationHandle {
  readonly number: number;
  readonly spawnAt: number;
  readonly execAt: number;
  samplesOver = 0;
  readonly #child: ChildProcess;
  readonly #spec: GenerationSpec;
  readonly #cgroup: GenerationCgroup | null;
  #oomKills = 0;
  oomKilled = false;
  #sampler: Sampler | null = null;
  #probe: ReadyProbe | null = null;
  #sink: GenerationSink | null = null;
  #timers = new Map<'ready' | 'deadline', NodeJS.Timeout>();
  /** The tree when a stop began: processes that left the process group are signalled by pid. */
  #stopPids: readonly number[] = [];

  /** Spawns the child; throws SpawnError (after closing the ready pipe) when it cannot be started. */
  static start(spec: GenerationSpec): Generation {
    const spawnAt = performance.now();
    try {
      return new Generation(spec, spawnChild(spec.cgroup ? { ...spec.spawn, cgroup: spec.cgroup.spawnWith } : spec.spawn), spawnAt);
    } catch (error) {
      if (spec.readyPipe) closeReadyPipe(spec.readyPipe);
      spec.cgroup?.release();
      throw error;
    } finally {
      spec.cgroup?.spawned();
    }
  }

  private constructor(spec: GenerationSpec, child: ChildProcess, spawnAt: number) {
    this.number = spec.number;
    this.spawnAt = spawnAt;
    this.execAt = performance.now();
    this.#spec = spec;
    this.#child = child;
    this.#cgroup = spec.cgroup;
  }

  get pid(): number {
    return this.#child.pid;
  }

  get exit(): ChildExit | undefined {
    return this.#child.exit;
  }

  get peakRssBytes(): number | null {
    return this.#sampler?.peakRssBytes ?? null;
  }

  begin(sink: GenerationSink): void {
    const spec = this.#spec;
    this.#sink = sink;
    void this.#child.exited.then((exit) => {
      const at = performance.now();
      this.oomKilled = this.#oomKills > 0 || this.#readOomKills() > 0;
      this.dispose();
      // whatever is left of its process group (its cgroup) goes with it, so no orphan outlives a generation
      this.kill();
      this.#cgroup?.release();
      sink.exited(this, exit, at);
    });
    const cgroup = this.#cgroup;
    if (spec.sampleIntervalMs !== null) {
      const source = cgroup ? () => {
        const reading = cgroup.read();
        return { pids: reading.pids, rssBytes: reading.workingSetBytes };
      } : undefined;
      this.#sampler = new Sampler(this.pid, spec.sampleIntervalMs, (sample) => sink.sample(this, sample), source);
      this.#sampler.start();
    }
    // the kernel's notices: a look at the working set at once, and its OOM kills
    cgroup?.watch(() => {
      this.#sampler?.sampleNow();
      const kills = this.#readOomKills();
      if (kills > this.#oomKills) {
        this.#oomKills = kills;
        sink.oomKill(this);
      }
    });
    if (spec.ready.kind === 'exec') {
      // exec'd is started, and spawnChild confirmed it at execAt; no need to wait for a tick
      sink.ready(this, this.execAt);
      return;
    }
    this.#probe = probeReady(spec.ready, spec.readyPipe, () => {
      this.#clear('ready');
      if (!this.exit) sink.ready(this, performance.now());
    });
    this.#arm('ready', spec.readyTimeoutMs, () => sink.readyTimeout(this));
  }

  stop(signal: NodeJS.Signals, killTimeoutMs: number): void {
    if (this.exit) return;
    if (!this.#cgroup) this.#stopPids = treePids(this.pid).slice(1);
    this.#signalTree(signal);
    if (signal !== 'SIGKILL' && signal !== 'SIGCONT') this.#signalTree('SIGCONT');
    this.#arm('deadline', killTimeoutMs, () => this.#sink?.deadline(this));
  }

  kill(): void {
    if (this.#cgroup) this.#cgroup.kill();
    else this.#signalTree('SIGKILL');
  }

  signal(signal: SignalLike): boolean {
    return this.#child.signal(signal);
  }

  dispose(): void {
    this.#sampler?.stop();
    this.#cgroup?.unwatch();
    this.#probe?.cancel();
    this.#probe = null;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #arm(timer: 'ready' | 'deadline', ms: number, fire: () => void): void {
    this.#clear(timer);
    this.#timers.set(timer, setTimeout(() => {
      this.#timers.delete(timer);
      fire();
    }, ms));
  }

  #clear(timer: 'ready' | 'deadline'): void {
    const armed = this.#timers.get(timer);
    if (armed) clearTimeout(armed);
    this.#timers.delete(timer);
  }

  #readOomKills(): number {
    try {
      return this.#cgroup?.oomKills() ?? 0;
    } catch {
      return 0;
    }
  }

  /** The process group, and every process of the tree that left it (some daemonize into a group of their own);
   * with --cgroup, every process in the cgroup, whatever its parentage. */
  #signalTree(signal: NodeJS.Signals): void {
    const number = signalNumber(signal);
    if (this.#cgroup) {
      this.#cgroup.signalAll(number);
      return;
    }
    this.#child.signalGroup(number);
    const live = this.exit ? [] : treePids(this.pid).slice(1);
    for (const pid of new Set([...this.#stopPids, ...live])) {
      try {
        process.kill(pid, number);
      } catch {
        // ESRCH: it ended on its own meanwhile
      }
    }
  }
}

/** The shell's convention: the code, or 128 + the signal number. */
export function statusOf(exit: ChildExit): number {
  return exit.code ?? 128 + (exit.signal ? signalNumber(exit.signal) : 0);
}
