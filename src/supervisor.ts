// The driver: feeds events to the pure lifecycle, runs the effects it returns, owns the timers, the child
// and its generation, and emits the typed events. Signals, timers and exit callbacks only enqueue events.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { NO_HISTORY, type RestartRules } from './backoff.js';
import type { ResolvedOptions } from './config.js';
import { childEnvironment } from './environment.js';
import { exitStatusForSpawnError, SpawnError } from './errors.js';
import type { ChildIdentity } from './identity.js';
import { initialLifecycle, transition, type Effect, type Lifecycle, type LifecycleEvent } from './lifecycle.js';
import { treePids, type TreeSample } from './proctree.js';
import { Sampler } from './sampler.js';
import { signalNumber, type SignalLike } from './signames.js';
import { spawnChild, type ChildExit, type ChildProcess } from './spawn.js';
import type { AngelEvents, ExitStatus, State } from './types.js';

/** How far past the cap a tree may grow during the grace period before it is SIGKILLed at once. */
export const HARD_CEILING_FACTOR = 1.5;

/** The shell's convention: the code, or 128 + the signal number. */
export function statusOf(exit: ChildExit): number {
  return exit.code ?? 128 + (exit.signal ? signalNumber(exit.signal) : 0);
}

export class Supervisor extends EventEmitter<AngelEvents> {
  readonly done: Promise<ExitStatus>;
  #resolveDone!: (status: ExitStatus) => void;
  #options: ResolvedOptions;
  #identity: ChildIdentity | null;
  #rules: RestartRules;
  #life: Lifecycle = initialLifecycle(NO_HISTORY);
  #queue: LifecycleEvent[] = [];
  #draining = false;

  #child: ChildProcess | null = null;
  #generation = -1;
  #spawnedAt = 0;
  #diedAt = 0;
  #restartDelayMs = 0;
  #sampler: Sampler | null = null;
  #samplesOver = 0;
  #stoppingPids: readonly number[] = [];
  #deadline: NodeJS.Timeout | null = null;
  #restartTimer: NodeJS.Timeout | null = null;

  constructor(options: ResolvedOptions, identity: ChildIdentity | null) {
    super();
    this.#options = options;
    this.#identity = identity;
    this.#rules = {
      policy: options.restart,
      maxRestarts: options.maxRestarts,
      windowMs: options.restartWindow * 1000,
      maxDelayMs: options.maxRestartDelay,
    };
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  get state(): State {
    return this.#life.state;
  }

  /** The running child's pid, if there is one. */
  get pid(): number | undefined {
    return this.#child && !this.#child.exit ? this.#child.pid : undefined;
  }

  get generation(): number {
    return this.#generation;
  }

  start(): void {
    this.#enqueue({ type: 'start' });
  }

  /** Graceful restart (or SIGHUP forwarded, with reload: 'signal'). */
  reload(): void {
    if (this.#options.reload === 'signal') this.forward('SIGHUP');
    else this.#enqueue({ type: 'reload' });
  }

  /** Graceful shutdown: the signal to the child's group, SIGKILL after the kill timeout; a second call kills. */
  shutdown(signal: NodeJS.Signals = this.#options.stopSignal, cause: string = signal): void {
    this.#enqueue({ type: 'shutdown', signal, cause });
  }

  /** Graceful stop with the stop signal, as shutdown() but reported as 'stop'. */
  stop(): void {
    this.shutdown(this.#options.stopSignal, 'stop');
  }

  /** Sends a signal to the running child; false when there is none. */
  forward(signal: SignalLike): boolean {
    return this.#child?.signal(signal) ?? false;
  }

  #enqueue(event: LifecycleEvent): void {
    this.#queue.push(event);
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) this.#dispatch(next);
    } finally {
      this.#draining = false;
    }
  }

  #dispatch(event: LifecycleEvent): void {
    const from = this.#life.state;
    const result = transition(this.#life, event, this.#rules);
    this.#life = result.next;
    if (result.next.state !== from) this.emit('state', { from, to: result.next.state, trigger: event.type });
    if (event.type === 'exited' && result.exitReason && this.#child?.exit) {
      const exit = this.#child.exit;
      this.emit('exit', {
        pid: this.#child.pid,
        generation: this.#generation,
        code: exit.code,
        signal: exit.signal,
        coreDumped: exit.coreDumped,
        reason: result.exitReason,
        uptimeMs: event.uptimeMs,
        peakRssBytes: this.#sampler?.peakRssBytes ?? 0,
      });
    }
    for (const effect of result.effects) this.#run(effect);
  }

  #run(effect: Effect): void {
    switch (effect.type) {
      case 'spawn': return this.#spawn();
      case 'stop': return this.#stop(effect.signal === 'stop-signal' ? this.#options.stopSignal : effect.signal);
      case 'kill': return this.#kill();
      case 'schedule-restart':
        this.#restartDelayMs = effect.delayMs;
        this.#restartTimer = setTimeout(() => this.#enqueue({ type: 'backoff-elapsed' }), effect.delayMs);
        return;
      case 'cancel-restart':
        if (this.#restartTimer) clearTimeout(this.#restartTimer);
        this.#restartTimer = null;
        this.#restartDelayMs = 0;
        return;
      case 'giveup':
        this.emit('giveup', { restarts: effect.restarts, windowSeconds: this.#options.restartWindow, status: effect.status });
        return;
      case 'finish':
        this.#clearTimers();
        this.emit('shutdown', { cause: effect.cause, status: effect.status });
        this.#resolveDone(effect.status);
        return;
      case 'impossible':
        this.emit('warning', { message: `lifecycle: impossible event ${effect.event}, ignored` });
        return;
    }
  }

  #spawn(): void {
    const generation = this.#generation + 1;
    const startedAt = performance.now();
    let child: ChildProcess;
    try {
      child = spawnChild({
        program: this.#options.program,
        args: this.#options.args,
        env: childEnvironment(process.env, this.#options.env, generation),
        ...(this.#options.cwd !== null && { cwd: this.#options.cwd }),
        rlimits: this.#options.rlimits,
        ...(this.#identity && { uid: this.#identity.uid, gid: this.#identity.gid, groups: this.#identity.groups, noNewPrivs: true }),
      });
    } catch (error) {
      if (!(error instanceof SpawnError)) throw error;
      this.emit('spawn-error', { error, status: exitStatusForSpawnError(error) });
      this.#enqueue({ type: 'spawn-failed', status: exitStatusForSpawnError(error) });
      return;
    }
    const execAt = performance.now();
    this.#generation = generation;
    this.#child = child;
    this.#spawnedAt = execAt;
    this.#samplesOver = 0;
    this.emit('start', { pid: child.pid, generation });
    if (generation > 0) {
      const restartLatencyMs = Math.max(0, execAt - this.#diedAt - this.#restartDelayMs);
      this.emit('restart', { generation, delayMs: this.#restartDelayMs, restartLatencyMs });
    }
    this.#restartDelayMs = 0;
    child.exited.then(() => this.#onExit(child));
    if (this.#options.maxMem !== null) {
      this.#sampler = new Sampler(child.pid, this.#options.sampleInterval, (sample) => this.#onSample(child, sample));
      this.#sampler.start();
    } else {
      this.#sampler = null;
    }
    // --ready exec: started means exec'd, which spawnChild has confirmed
    this.emit('ready', { pid: child.pid, generation, startLatencyMs: execAt - startedAt });
    this.#enqueue({ type: 'ready' });
  }

  #onExit(child: ChildProcess): void {
    if (child !== this.#child) return;
    const now = performance.now();
    this.#diedAt = now;
    this.#sampler?.stop();
    if (this.#deadline) clearTimeout(this.#deadline);
    this.#deadline = null;
    // Whatever is left of its process group goes with it, so no orphan outlives a generation.
    this.#signalTree(child, 'SIGKILL', this.#stoppingPids);
    this.#stoppingPids = [];
    const exit = child.exit as ChildExit;
    this.#enqueue({
      type: 'exited',
      status: statusOf(exit),
      cleanExit: exit.code === 0,
      uptimeMs: now - this.#spawnedAt,
      now,
    });
  }

  #onSample(child: ChildProcess, sample: TreeSample): void {
    if (child !== this.#child || this.#options.maxMem === null) return;
    const cap = this.#options.maxMem;
    this.emit('sample', { pid: child.pid, rssBytes: sample.rssBytes, processes: sample.pids.length });
    if (this.#life.state === 'stopping') {
      if (this.#life.stopReason === 'overrun' && sample.rssBytes > cap * HARD_CEILING_FACTOR) {
        this.emit('overrun', { pid: child.pid, generation: this.#generation, rssBytes: sample.rssBytes, capBytes: cap, hardKill: true });
        this.#enqueue({ type: 'hard-ceiling' });
      }
      return;
    }
    this.#samplesOver = sample.rssBytes > cap ? this.#samplesOver + 1 : 0;
    if (this.#samplesOver >= this.#options.overrunSamples) {
      this.emit('overrun', { pid: child.pid, generation: this.#generation, rssBytes: sample.rssBytes, capBytes: cap });
      this.#enqueue({ type: 'overrun' });
    }
  }

  /** Signals the child's group and every process of its tree (some may have left the group). */
  #signalTree(child: ChildProcess, signal: NodeJS.Signals, extraPids: readonly number[] = []): void {
    const number = signalNumber(signal);
    child.signalGroup(number);
    for (const pid of new Set([...extraPids, ...(child.exit ? [] : treePids(child.pid).slice(1))])) {
      try {
        process.kill(pid, number);
      } catch {
        // ESRCH: it ended on its own meanwhile
      }
    }
  }

  #stop(signal: NodeJS.Signals): void {
    const child = this.#child;
    if (!child || child.exit) return;
    this.#stoppingPids = treePids(child.pid).slice(1);
    this.#signalTree(child, signal, this.#stoppingPids);
    // SIGCONT after the stop signal, as systemd, runit and s6 do: a stopped process can then act on it
    if (signal !== 'SIGKILL' && signal !== 'SIGCONT') this.#signalTree(child, 'SIGCONT', this.#stoppingPids);
    if (this.#deadline) clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => this.#enqueue({ type: 'deadline' }), this.#options.killTimeout);
  }

  #kill(): void {
    const child = this.#child;
    if (child && !child.exit) this.#signalTree(child, 'SIGKILL', this.#stoppingPids);
  }

  #clearTimers(): void {
    for (const timer of [this.#deadline, this.#restartTimer]) if (timer) clearTimeout(timer);
    this.#deadline = this.#restartTimer = null;
    this.#sampler?.stop();
  }
}
