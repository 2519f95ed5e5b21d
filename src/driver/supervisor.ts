// The driver: feeds events to the pure lifecycle, runs the effects it returns, owns the timers, the
// generations and the held sockets, and emits the typed events. Signals, timers and exit callbacks only
// enqueue events. A generation is `current` (serving), `next` (warming up during an overlapping reload) or
// retiring (replaced, being stopped gracefully; its end changes no state).
import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { NO_HISTORY, type RestartRules } from '../core/backoff.js';
import type { ResolvedOptions } from '../core/options.js';
import { exitStatusForSpawnError, SpawnError } from '../core/errors.js';
import type { ChildIdentity } from '../kernel/identity.js';
import { releaseLaunch, type Launch } from './launch.js';
import type { LogPipe } from '../kernel/logfile.js';
import { initialLifecycle, transition, type Effect, type Lifecycle, type LifecycleEvent } from '../core/lifecycle.js';
import type { TreeSample } from '../kernel/proctree.js';
import { openReadyPipe, probeReady, type ReadyPipe } from '../kernel/ready.js';
import { Sampler } from '../kernel/sampler.js';
import type { SignalLike } from '../core/signames.js';
import { closeAll, listenEnvironment, type HeldSocket } from '../kernel/sockets.js';
import { Environ, spawnChild, type ChildExit, type ChildProcess } from '../kernel/spawn.js';
import { signalTree, statusOf, stopGeneration, type Generation } from './generation.js';
import type { AngelEvents, ExitReason, ExitStatus, State } from '../core/types.js';

export { statusOf } from './generation.js';

/** How far past the cap a tree may grow during the grace period before it is SIGKILLed at once. */
export const HARD_CEILING_FACTOR = 1.5;



export class Supervisor extends EventEmitter<AngelEvents> {
  readonly done: Promise<ExitStatus>;
  #resolveDone!: (status: ExitStatus) => void;
  #options: ResolvedOptions;
  #identity: ChildIdentity | null;
  #sockets: readonly HeldSocket[];
  #rules: RestartRules;
  #life: Lifecycle = initialLifecycle(NO_HISTORY);
  #queue: Array<{ event: LifecycleEvent; generation?: Generation }> = [];
  #draining = false;

  #current: Generation | null = null;
  #next: Generation | null = null;
  #retiring = new Set<Generation>();
  #generationCount = -1;
  #diedAt = 0;
  #restartDelayMs = 0;
  #restartTimer: NodeJS.Timeout | null = null;
  /** angel's environment as the child gets it, less ANGEL_GENERATION: read and converted once per options,
   * since process.env is a slow exotic object and a restart should not pay for walking it. */
  #baseEnv!: Environ;

  #logPipe: LogPipe | null;
  #launch: Launch;

  constructor(launch: Launch, sockets: readonly HeldSocket[] = [], logPipe: LogPipe | null = null) {
    super();
    this.#logPipe = logPipe;
    if (logPipe) logPipe.onWarning = (warning) => this.emit('warning', warning);
    this.#launch = launch;
    this.#options = launch.options;
    this.#identity = launch.identity;
    this.#sockets = sockets;
    this.#rules = this.#rulesOf(launch.options);
    this.#baseEnv = this.#baseEnvOf(launch);
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  #baseEnvOf(launch: Launch): Environ {
    return Environ.of({ ...launch.env, ...listenEnvironment(this.#sockets) });
  }

  #rulesOf(options: ResolvedOptions): RestartRules {
    return {
      policy: options.restart,
      maxRestarts: options.maxRestarts,
      windowMs: options.restartWindow * 1000,
      maxDelayMs: options.maxRestartDelay,
      overlap: this.#sockets.length > 0,
    };
  }

  get state(): State {
    return this.#life.state;
  }

  /** The serving child's pid, if there is one. */
  get pid(): number | undefined {
    const child = this.#current?.child;
    return child && !child.exit ? child.pid : undefined;
  }

  get generation(): number {
    return this.#current?.number ?? this.#generationCount;
  }

  get options(): ResolvedOptions {
    return this.#options;
  }

  start(): void {
    this.#enqueue({ type: 'start' });
  }

  /** Takes a new launch for the next generations (a re-read config file, checked as at start); the held
   * sockets stay as they are. */
  updateLaunch(launch: Launch): void {
    releaseLaunch(this.#launch);
    this.#launch = launch;
    this.#options = { ...launch.options, listen: this.#options.listen, socketMode: this.#options.socketMode };
    this.#rules = this.#rulesOf(this.#options);
    this.#baseEnv = this.#baseEnvOf(launch);
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

  /** Reopens --log-file (after a rotation); a failure is a warning and the old file stays in use. False
   * when there is no log file to reopen. */
  reopenLog(): boolean {
    if (!this.#logPipe) return false;
    try {
      this.#logPipe.reopen();
    } catch (error) {
      this.emit('warning', { message: `reopen: ${(error as Error).message}` });
    }
    return true;
  }

  /** Sends a signal to the serving child; false when there is none. */
  forward(signal: SignalLike): boolean {
    return this.#current?.child.signal(signal) ?? false;
  }

  #enqueue(event: LifecycleEvent, generation?: Generation): void {
    this.#queue.push(generation ? { event, generation } : { event });
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let item = this.#queue.shift(); item; item = this.#queue.shift()) this.#dispatch(item.event, item.generation);
    } finally {
      this.#draining = false;
    }
  }

  #dispatch(event: LifecycleEvent, generation?: Generation): void {
    const from = this.#life.state;
    const result = transition(this.#life, event, this.#rules);
    this.#life = result.next;
    if (result.next.state !== from) this.emit('state', { from, to: result.next.state, trigger: event.type });
    if (event.type === 'exited' && result.exitReason && generation) {
      this.#emitExit(generation, result.exitReason, event.uptimeMs);
    }
    for (const effect of result.effects) this.#run(effect);
  }

  #emitExit(generation: Generation, reason: ExitReason, uptimeMs: number): void {
    const exit = generation.child.exit as ChildExit;
    this.emit('exit', {
      pid: generation.child.pid,
      generation: generation.number,
      code: exit.code,
      signal: exit.signal,
      coreDumped: exit.coreDumped,
      reason,
      uptimeMs,
      peakRssBytes: generation.sampler?.peakRssBytes ?? 0,
    });
  }

  #run(effect: Effect): void {
    switch (effect.type) {
      case 'spawn':
        this.#current = this.#spawn('current');
        return;
      case 'spawn-next':
        this.#next = this.#spawn('next');
        if (!this.#next) this.#enqueue({ type: 'exited', status: 126, cleanExit: false, uptimeMs: 0, now: performance.now(), role: 'next' });
        return;
      case 'promote': return this.#promote(effect.retire);
      case 'warn':
        this.emit('warning', { message: effect.message });
        return;
      case 'stop': return this.#stopAll(effect.signal === 'stop-signal' ? this.#options.stopSignal : effect.signal);
      case 'kill':
        if (this.#current) signalTree(this.#current, 'SIGKILL');
        return;
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
      case 'finish': return this.#finish(effect.status, effect.cause);
      case 'impossible':
        this.emit('warning', { message: `lifecycle: impossible event ${effect.event}, ignored` });
        return;
    }
  }

  /** Starts a generation; null (after reporting) when the program cannot be started. */
  #spawn(role: 'current' | 'next'): Generation | null {
    const number = this.#generationCount + 1;
    const callAt = performance.now();
    const readyPipe: ReadyPipe | null = this.#options.ready.kind === 'fd' ? openReadyPipe() : null;
    const out = this.#logPipe?.writeFd;
    const fds = [0, out ?? 1, out ?? 2, ...this.#sockets.map((socket) => socket.fd)];
    const perStart: Record<string, string> = { ANGEL_GENERATION: String(number) };
    if (readyPipe) perStart.ANGEL_READY_FD = String(fds.push(readyPipe.writeFd) - 1);
    const env = this.#baseEnv.with(perStart);
    let child: ChildProcess;
    try {
      child = spawnChild({
        program: this.#launch.program?.path ?? this.#options.program,
        args: this.#options.args,
        ...(this.#launch.program && { execFd: this.#launch.program.fd, execFdInherit: this.#launch.program.script }),
        env,
        ...(this.#options.cwd !== null && { cwd: this.#options.cwd }),
        fds,
        listenPid: this.#sockets.length > 0,
        rlimits: this.#options.rlimits,
        ...(this.#identity && { uid: this.#identity.uid, gid: this.#identity.gid, groups: this.#identity.groups, noNewPrivs: true }),
      });
    } catch (error) {
      if (readyPipe) for (const fd of [readyPipe.readFd, readyPipe.writeFd]) closeSync(fd);
      if (!(error instanceof SpawnError)) throw error;
      const status = exitStatusForSpawnError(error);
      this.emit('spawn-error', { error, status });
      if (this.#life.state !== 'reloading') this.#enqueue({ type: 'spawn-failed', status });
      return null;
    }
    const execAt = performance.now();
    this.#generationCount = number;
    const generation: Generation = {
      child,
      number,
      execAt,
      sampler: null,
      samplesOver: 0,
      probe: null,
      readyTimer: null,
      stopPids: [],
      deadline: null,
      retiring: null,
    };
    if (this.#options.maxMem !== null) {
      generation.sampler = new Sampler(child.pid, this.#options.sampleInterval, (sample) => this.#onSample(generation, sample));
    }
    this.emit('start', { pid: child.pid, generation: number });
    child.exited.then(() => this.#onExit(generation));
    generation.sampler?.start();

    const becomeReady = (): void => {
      this.#clearReadiness(generation);
      if (child.exit || generation.retiring) return;
      // exec'd is started with --ready exec, and spawnChild confirmed it at execAt
      const readyAt = this.#options.ready.kind === 'exec' ? execAt : performance.now();
      this.emit('ready', { pid: child.pid, generation: number, startLatencyMs: readyAt - callAt });
      const overlapped = role === 'next';
      if (number > 0) {
        // to exec for --ready exec, to readiness otherwise; an overlapped reload has no gap to measure
        const latency = overlapped ? 0 : Math.max(0, readyAt - this.#diedAt - this.#restartDelayMs);
        this.emit('restart', { generation: number, delayMs: this.#restartDelayMs, restartLatencyMs: latency });
      }
      this.#restartDelayMs = 0;
      this.#enqueue({ type: 'ready' });
    };
    if (this.#options.ready.kind === 'exec') {
      // exec'd is started, and spawnChild has confirmed it; no need to wait for a tick
      becomeReady();
    } else {
      generation.probe = probeReady(this.#options.ready, readyPipe, becomeReady);
      generation.readyTimer = setTimeout(() => {
        this.emit('warning', { message: `generation ${number} (pid ${child.pid}) not ready within ${this.#options.readyTimeout} ms; killing it` });
        signalTree(generation, 'SIGKILL');
      }, this.#options.readyTimeout);
    }
    return generation;
  }

  #clearReadiness(generation: Generation): void {
    generation.probe?.cancel();
    generation.probe = null;
    if (generation.readyTimer) clearTimeout(generation.readyTimer);
    generation.readyTimer = null;
  }

  #promote(retire: 'reload' | 'overrun' | null): void {
    const old = this.#current;
    this.#current = this.#next;
    this.#next = null;
    if (old && retire && !old.child.exit) {
      old.retiring = retire;
      this.#retiring.add(old);
      this.#stop(old, this.#options.stopSignal, false);
    }
  }

  #onExit(generation: Generation): void {
    const now = performance.now();
    generation.sampler?.stop();
    this.#clearReadiness(generation);
    if (generation.deadline) clearTimeout(generation.deadline);
    // Whatever is left of its process group goes with it, so no orphan outlives a generation.
    signalTree(generation, 'SIGKILL');
    const exit = generation.child.exit as ChildExit;
    const uptimeMs = now - generation.execAt;
    if (this.#retiring.delete(generation)) {
      this.#emitExit(generation, generation.retiring ?? 'reload', uptimeMs);
      return;
    }
    const role = generation === this.#next ? 'next' : generation === this.#current ? 'current' : null;
    if (role === null) return;
    if (role === 'next') this.#next = null;
    else this.#diedAt = now;
    this.#enqueue({ type: 'exited', status: statusOf(exit), cleanExit: exit.code === 0, uptimeMs, now, role }, generation);
  }

  #onSample(generation: Generation, sample: TreeSample): void {
    const cap = this.#options.maxMem;
    if (cap === null) return;
    this.emit('sample', { pid: generation.child.pid, rssBytes: sample.rssBytes, processes: sample.pids.length });
    const overrun = { pid: generation.child.pid, generation: generation.number, rssBytes: sample.rssBytes, capBytes: cap };
    const beingReplaced = generation.retiring === 'overrun' ||
      (generation === this.#current && this.#life.stopReason === 'overrun');
    if (beingReplaced) {
      // a leak must not take the machine down during the grace period
      if (sample.rssBytes > cap * HARD_CEILING_FACTOR) {
        this.emit('overrun', { ...overrun, hardKill: true });
        if (generation.retiring) signalTree(generation, 'SIGKILL');
        else this.#enqueue({ type: 'hard-ceiling' });
      }
      return;
    }
    if (generation !== this.#current || (this.#life.state !== 'running' && this.#life.state !== 'starting')) return;
    generation.samplesOver = sample.rssBytes > cap ? generation.samplesOver + 1 : 0;
    if (generation.samplesOver >= this.#options.overrunSamples) {
      this.emit('overrun', overrun);
      this.#enqueue({ type: 'overrun' });
    }
  }

  /** Stops a generation; at the deadline the current one goes through the lifecycle, any other is killed. */
  #stop(generation: Generation, signal: NodeJS.Signals, viaLifecycle: boolean): void {
    stopGeneration(generation, signal, this.#options.killTimeout, () => {
      if (viaLifecycle && generation === this.#current) this.#enqueue({ type: 'deadline' });
      else signalTree(generation, 'SIGKILL');
    });
  }

  #stopAll(signal: NodeJS.Signals): void {
    if (this.#next) {
      // a successor still warming up is abandoned: it never served
      this.#next.retiring = 'shutdown';
      this.#retiring.add(this.#next);
      this.#stop(this.#next, signal, false);
      this.#next = null;
    }
    if (this.#current) this.#stop(this.#current, signal, true);
  }

  #finish(status: number, cause: string): void {
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    for (const generation of [this.#current, this.#next, ...this.#retiring]) {
      if (!generation) continue;
      generation.sampler?.stop();
      this.#clearReadiness(generation);
      if (generation.deadline) clearTimeout(generation.deadline);
      if (!generation.child.exit) signalTree(generation, 'SIGKILL');
    }
    closeAll(this.#sockets);
    releaseLaunch(this.#launch);
    this.emit('shutdown', { cause, status });
    // done once everything the children wrote is in the log file
    void (this.#logPipe?.close() ?? Promise.resolve()).then(() => this.#resolveDone(status));
  }
}
