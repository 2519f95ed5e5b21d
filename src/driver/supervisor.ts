// The driver: a loop of events in, effects out. Requests (start, reload, shutdown), and what generations
// report (ready, exit, samples, deadlines), become lifecycle events; the pure lifecycle returns the next
// state and the effects, which run here; the typed events a caller sees are emitted here. Nothing is
// decided here: when to stop, restart or give up is the lifecycle's (lifecycle.ts, backoff.ts), what a
// sample means is the overrun judge's (overrun.ts).
import { EventEmitter } from 'node:events';
import { NO_HISTORY, type RestartRules } from '../core/backoff.js';
import type { ResolvedOptions } from '../core/options.js';
import { exitStatusForSpawnError, SpawnError } from '../core/errors.js';
import { Generation, statusOf, type GenerationHandle, type GenerationSink, type Sampling, type StartGeneration } from './generation.js';
import { paceOf, showCap, watchModeOf, type ResolvedCap, type WatchMode } from '../core/memory.js';
import { resolveMemoryCap, type OwnMemory } from '../kernel/ownmemory.js';
import { performance } from 'node:perf_hooks';
import { generationSpec, releaseLaunch, type Launch } from './launch.js';
import { NotifyDirectory } from '../kernel/notify.js';
import { initialLifecycle, transition, watchOf, type Effect, type Lifecycle, type LifecycleEvent } from '../core/lifecycle.js';
import type { LineWriter, LogPipe } from '../kernel/logpipe.js';
import { judgeSample, type OverrunRules } from '../core/overrun.js';
import { deliverable } from '../core/rewrite.js';
import { signalName, signalNumber, type SignalLike } from '../core/signames.js';
import { CgroupError } from '../kernel/cgroup.js';
import type { CgroupTree } from '../kernel/cgrouptree.js';
import type { GenerationCgroup } from '../kernel/generationcgroup.js';
import { killTree } from '../kernel/reaper.js';
import { closeAll, listenEnvironment, type HeldSocket } from '../kernel/sockets.js';
import { familyOf, type Orphan } from '../core/orphans.js';
import { Environ, type ChildExit } from '../kernel/spawn.js';
import type { AngelEvents, ExitReason, ExitStatus, State } from '../core/types.js';

/** How often the limit behind an N% cap is read again, at least, while a generation is sampled. */
const CAP_READ_MS = 1000;

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

interface HeldEvent {
  name: keyof AngelEvents;
  payload: unknown[];
}

/** What a reaper does for the supervisor (kernel/reaper.ts). */
export interface ReaperLike {
  start(): void;
  scan(): void;
  /** A scan shortly (one for many requests). */
  scanSoon(): void;
  drain(timeoutMs: number): Promise<void>;
  stop(): void;
}

/** The spawner, the restart timer and the reaper, injected by tests that drive the supervisor without processes. */
export interface SupervisorDeps {
  startGeneration: StartGeneration;
  /** Reap and adopt orphans (a child subreaper, or PID 1): null leaves them to init. */
  reaper: ((isOwn: (pid: number) => boolean, onOrphan: (orphan: Orphan) => void) => ReaperLike) | null;
  setTimeout: (fire: () => void, ms: number) => unknown;
  clearTimeout: (timer: unknown) => void;
}

const REAL: SupervisorDeps = {
  startGeneration: (spec) => Generation.start(spec),
  reaper: null,
  setTimeout: (fire, ms) => setTimeout(fire, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

export class Supervisor extends EventEmitter<AngelEvents> {
  readonly done: Promise<ExitStatus>;
  #resolveDone!: (status: ExitStatus) => void;
  readonly #deps: SupervisorDeps;
  readonly #sockets: readonly HeldSocket[];
  readonly #logPipe: LogPipe | null;
  /** --cgroup: this angel's cgroups, one per generation. */
  readonly #cgroups: CgroupTree | null;
  /** angel's own memory cgroup, read only: container mode's figure, N%'s limit, the kernel's OOM kills. */
  readonly #own: OwnMemory | null;
  #cap: ResolvedCap | null = null;
  #watchMode: WatchMode | null = null;
  /** When the limit behind an N% cap was last read. */
  #capReadAt = 0;
  #startWarnings: string[] = [];
  #launch!: Launch;
  #options!: ResolvedOptions;
  #rules!: RestartRules;
  #overrunRules: OverrunRules | null = null;
  /** angel's environment as every child gets it, converted once per launch: a restart should not walk it. */
  #baseEnv!: Environ;

  #life: Lifecycle = initialLifecycle(NO_HISTORY);
  #generations = new Map<number, GenerationHandle>();
  #queue: LifecycleEvent[] = [];
  #draining = false;
  #restartTimer: unknown = null;
  #restartDelayMs = 0;
  /** When the last current generation died: a restart's latency is measured from here. */
  #diedAt = 0;
  #reaper: ReaperLike | null = null;
  /** Events emitted while a lifecycle event is dispatched, emitted once its effects ran. */
  #held: HeldEvent[] | null = null;
  /** Each generation's tree at its last sample, as pid count and sum: a change means a reaper scan. */
  #treeShapes = new Map<number, number>();
  /** When each generation became ready: --min-uptime counts from there, as s6 does. */
  #readyAt = new Map<number, number>();
  /** The first processes (session ids) of generations that ended: their orphans follow them at once. */
  #endedSessions = new Set<number>();
  /** Where generations' NOTIFY_SOCKETs are made (--ready notify, --watchdog); nothing is created until one is. */
  readonly #notifyDir = new NotifyDirectory();

  constructor(
    launch: Launch,
    sockets: readonly HeldSocket[] = [],
    logPipe: LogPipe | null = null,
    deps: Partial<SupervisorDeps> = {},
    cgroups: CgroupTree | null = null,
    own: OwnMemory | null = null,
  ) {
    super();
    this.#deps = { ...REAL, ...deps };
    this.#sockets = sockets;
    this.#logPipe = logPipe;
    this.#cgroups = cgroups;
    this.#own = own;
    if (logPipe) logPipe.onWarning = (warning) => this.emit('warning', warning);
    this.#take(launch);
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  #take(launch: Launch): void {
    this.#launch = launch;
    this.#options = launch.options;
    this.#rules = {
      policy: launch.options.restart,
      maxRestarts: launch.options.maxRestarts,
      windowMs: launch.options.restartWindow * 1000,
      maxDelayMs: launch.options.maxRestartDelay,
      minUptimeMs: launch.options.minUptime,
      restartDelayMs: launch.options.restartDelay,
      stopSignalNumber: signalNumber(launch.options.stopSignal),
      overlap: this.#sockets.length > 0,
    };
    this.#cap = launch.cap;
    this.#overrunRules = launch.cap === null ? null : { capBytes: launch.cap.capBytes, samples: launch.options.overrunSamples };
    this.#watchMode = launch.cap === null ? null : watchModeOf(launch.cap, this.#cgroups !== null);
    this.#baseEnv = Environ.of({ ...launch.env, ...listenEnvironment(this.#sockets) });
  }

  /** The options in force (a SIGHUP's config may have replaced those of the start). */
  get options(): ResolvedOptions {
    return this.#options;
  }

  get state(): State {
    return this.#life.state;
  }

  /** The --max-mem cap in force and what it is a share of, or null. */
  get cap(): ResolvedCap | null {
    return this.#cap;
  }

  /** The --max-mem cap in force, in bytes (a percentage resolved at the last start or reload), or null. */
  get capBytes(): number | null {
    return this.#overrunRules?.capBytes ?? null;
  }

  /** The serving child's pid, if there is one. */
  get pid(): number | undefined {
    const current = this.#life.current === null ? undefined : this.#generations.get(this.#life.current);
    return current && !current.exit ? current.pid : undefined;
  }

  /** The serving generation's number, or the last one started (-1 before the first). */
  get generation(): number {
    return this.#life.current ?? this.#life.spawned - 1;
  }

  /** A warning from putting this supervisor together, said when it starts (its listeners are there by then). */
  warnAtStart(message: string): void {
    this.#startWarnings.push(message);
  }

  start(): void {
    for (const message of this.#startWarnings.splice(0)) this.emit('warning', { message });
    const cap = this.#cap;
    if (cap?.source === 'machine') {
      this.emit('warning', { message: `--max-mem ${showCap(this.#options.maxMem)}: no memory limit is set on angel's cgroup or above it, so the cap is that share of the machine's memory, ${mib(cap.capBytes)} of ${mib(cap.ofBytes ?? 0)}` });
    }
    this.#capReadAt = performance.now();
    this.#reaper = this.#deps.reaper?.((pid) => this.#isOwn(pid), (orphan) => this.#adopt(orphan)) ?? null;
    this.#reaper?.start();
    this.#enqueue({ type: 'start' });
  }

  #isOwn(pid: number): boolean {
    for (const generation of this.#generations.values()) if (generation.pid === pid) return true;
    return false;
  }

  /** An orphan goes to the generation it came from (core/orphans.ts); one of a generation that ended is killed. */
  #adopt(orphan: Orphan): void {
    const families = [...this.#generations.values()].map((generation) => ({ number: generation.number, leader: generation.pid, lastTree: generation.lastTree }));
    const number = this.#endedSessions.has(orphan.session) ? null : familyOf(orphan, families, this.#life.current);
    const family = number === null ? undefined : this.#generations.get(number);
    if (family) family.adopt(orphan.pid);
    else killTree(orphan.pid);
  }

  /** Takes a new launch for the next generations (a re-read config file, checked as at start). */
  updateLaunch(launch: Launch): void {
    releaseLaunch(this.#launch);
    this.#take(launch);
  }

  /** An N% cap follows the limit it is a share of: read again at every reload and, while a generation is
   * sampled, at least once a second; a change is a `cap` event, and the new cap is judged from the next sample. */
  #refreshCap(now: number): void {
    const before = this.#cap;
    if (before === null || before.source === 'size' || this.#overrunRules === null) return;
    this.#capReadAt = now;
    const cap = resolveMemoryCap(this.#options.maxMem, this.#own);
    if (cap === null || cap.capBytes === before.capBytes) return;
    this.#cap = cap;
    this.#overrunRules = { ...this.#overrunRules, capBytes: cap.capBytes };
    this.emit('cap', { capBytes: cap.capBytes, previousBytes: before.capBytes, ofBytes: cap.ofBytes, source: cap.source });
  }

  /** Graceful restart (or, with reload: 'signal', `forwarded` sent to the child: SIGHUP, or its --rewrite). */
  reload(forwarded: NodeJS.Signals = 'SIGHUP'): void {
    this.#refreshCap(performance.now());
    if (this.#options.reload === 'signal') this.forward(forwarded);
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

  /** A writer of whole lines into --log-file among the child's (the CLI's event log, with --log-events), or
   * null without one; the file stays open until it has ended. */
  logWriter(): LineWriter | null {
    return this.#logPipe?.writer() ?? null;
  }

  /** Sends a signal to the serving child (through its pidfd: no pid-reuse race); false when there is none, or
   * when angel withholds it (SIGUSR1 to a root child of another user: core/rewrite.ts). */
  forward(signal: SignalLike): boolean {
    const name = typeof signal === 'number' ? signalName(signal) : signal;
    if (name !== undefined && !deliverable(name, this.#launch.rootChildForUser)) {
      this.emit('warning', { message: `${name} not forwarded: it would open a Node child's inspector, and the child runs as root for another user` });
      return false;
    }
    const current = this.#life.current === null ? undefined : this.#generations.get(this.#life.current);
    return current?.signal(signal) ?? false;
  }

  // ---- events in ----

  #enqueue(event: LifecycleEvent, first = false): void {
    if (first) this.#queue.unshift(event);
    else this.#queue.push(event);
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) this.#dispatch(next);
    } finally {
      this.#draining = false;
    }
  }

  #dispatch(event: LifecycleEvent): void {
    // the effects first, then what happened, in the order it happened: a restart's spawn does not wait for the
    // exit's listeners (the event log's serialization was a fifth of angel's share after an idle CPU)
    this.#held = [];
    try {
      const from = this.#life.state;
      const result = transition(this.#life, event, this.#rules);
      this.#life = result.next;
      if (result.next.state !== from) this.emit('state', { from, to: result.next.state, trigger: event.type });
      if (result.exit && event.type === 'exited') this.#reportExit(result.exit.generation, result.exit.reason, event.uptimeMs);
      for (const effect of result.effects) this.#run(effect);
    } finally {
      const held = this.#held;
      this.#held = null;
      for (const { name, payload } of held) EventEmitter.prototype.emit.call(this, name, ...payload);
    }
  }

  /** Held while a lifecycle event is dispatched (see #dispatch); emitted at once otherwise. */
  override emit<K extends keyof AngelEvents>(name: K, ...payload: K extends keyof AngelEvents ? AngelEvents[K] : never): boolean {
    if (this.#held === null) return super.emit(name, ...payload);
    this.#held.push({ name, payload });
    return this.listenerCount(name) > 0;
  }

  readonly #sink: GenerationSink = {
    ready: (generation, readyAt) => this.#onReady(generation, readyAt),
    sample: (generation, sample) => {
      // an orphan left the tree: one re-parented since the last sample is adopted now and counted from the next.
      // Only when the tree changed, so a steady tree costs no scan of angel's children per sample.
      if (this.#reaper) {
        const shape = sample.pids.reduce((sum, pid) => sum + pid, sample.pids.length * 4_194_304);
        if (this.#treeShapes.get(generation.number) !== shape) {
          this.#treeShapes.set(generation.number, shape);
          this.#reaper.scan();
        }
      }
      this.emit('sample', { pid: generation.pid, rssBytes: sample.rssBytes, processes: sample.pids.length });
      const now = performance.now();
      if (now - this.#capReadAt >= CAP_READ_MS) this.#refreshCap(now);
      if (!this.#overrunRules) return;
      const judged = judgeSample(this.#overrunRules, watchOf(this.#life, generation.number), generation.samplesOver, sample.rssBytes);
      generation.samplesOver = judged.samplesOver;
      if (judged.verdict === 'within') return;
      const hardKill = judged.verdict === 'hard-ceiling';
      this.emit('overrun', { pid: generation.pid, generation: generation.number, rssBytes: sample.rssBytes, capBytes: this.#overrunRules.capBytes, ...(hardKill && { hardKill }) });
      this.#enqueue({ type: hardKill ? 'hard-ceiling' : 'overrun', generation: generation.number });
    },
    readyTimeout: (generation) => this.#enqueue({ type: 'ready-timeout', generation: generation.number, afterMs: this.#options.readyTimeout }),
    deadline: (generation) => this.#enqueue({ type: 'deadline', generation: generation.number }),
    watchdog: (generation, triggered) => {
      this.emit('watchdog', { pid: generation.pid, generation: generation.number, periodMs: this.#options.watchdog, ...(triggered && { triggered }) });
      this.#enqueue({ type: 'watchdog', generation: generation.number });
    },
    notified: (generation, message) => {
      const { ready, reloading, stopping, watchdog, status } = message;
      this.emit('notify', { pid: generation.pid, generation: generation.number, ready, reloading, stopping, watchdog, status });
    },
    refused: (generation, why) => this.emit('warning', { message: `generation ${generation.number}: ${why}` }),
    exited: (generation, exit, at) => {
      if (generation.number === this.#life.current) this.#diedAt = at;
      const uptimeMs = at - generation.execAt;
      const readyAt = this.#readyAt.get(generation.number);
      this.#readyAt.delete(generation.number);
      const servedMs = readyAt === undefined ? 0 : at - readyAt;
      const oomKilled = generation.oomKilled ?? false;
      // its first process's children were reparented to angel as it died: found by a scan shortly after the
      // restart, they end with it (its session is an ended one by then)
      this.#reaper?.scanSoon();
      this.#enqueue({ type: 'exited', generation: generation.number, status: statusOf(exit), cleanExit: exit.code === 0, uptimeMs, servedMs, now: at, ...(oomKilled && { oomKilled }) });
    },
    oomKill: (generation) => {
      this.emit('warning', { message: `generation ${generation.number}: the kernel's OOM killer killed a process of its cgroup; the rest of it goes too` });
      this.#enqueue({ type: 'oom-kill', generation: generation.number });
    },
  };

  #onReady(generation: GenerationHandle, readyAt: number): void {
    const { number, pid } = generation;
    // a successor abandoned by a shutdown may still come up: it never serves, so it never started
    if (Object.hasOwn(this.#life.retiring, number)) return;
    this.#readyAt.set(number, readyAt);
    this.emit('ready', { pid, generation: number, startLatencyMs: readyAt - generation.spawnAt });
    if (number > 0) {
      // to exec for --ready exec, to readiness otherwise; an overlapped reload has no gap to measure
      const overlapped = number === this.#life.next;
      const latency = overlapped ? 0 : Math.max(0, readyAt - this.#diedAt - this.#restartDelayMs);
      this.emit('restart', { generation: number, delayMs: this.#restartDelayMs, restartLatencyMs: latency });
    }
    this.#restartDelayMs = 0;
    this.#enqueue({ type: 'ready', generation: number });
  }

  #reportExit(number: number, reason: ExitReason, uptimeMs: number): void {
    const generation = this.#generations.get(number);
    if (!generation) return;
    this.#generations.delete(number);
    this.#treeShapes.delete(number);
    this.#endedSessions.add(generation.pid);
    if (this.#endedSessions.size > 64) this.#endedSessions.delete(this.#endedSessions.values().next().value as number);
    const exit = generation.exit as ChildExit;
    this.emit('exit', {
      pid: generation.pid, generation: number, code: exit.code, signal: exit.signal, coreDumped: exit.coreDumped,
      reason, uptimeMs, peakRssBytes: generation.peakRssBytes,
    });
  }

  // ---- effects out ----

  #run(effect: Effect): void {
    switch (effect.type) {
      case 'spawn': return this.#spawn(effect.generation);
      case 'stop': {
        const signal = effect.signal === 'stop-signal' ? this.#options.stopSignal : effect.signal;
        return this.#generations.get(effect.generation)?.stop(signal, this.#options.killTimeout);
      }
      case 'kill': return this.#generations.get(effect.generation)?.kill();
      case 'warn':
        this.emit('warning', { message: effect.message });
        return;
      case 'schedule-restart':
        this.#restartDelayMs = effect.delayMs;
        this.#restartTimer = this.#deps.setTimeout(() => this.#enqueue({ type: 'backoff-elapsed' }), effect.delayMs);
        return;
      case 'cancel-restart': return this.#cancelRestart();
      case 'giveup':
        this.emit('giveup', { restarts: effect.restarts, windowSeconds: this.#options.restartWindow, status: effect.status });
        return;
      case 'finish': return this.#finish(effect.status, effect.cause);
      case 'impossible':
        this.emit('warning', { message: `lifecycle: impossible event ${effect.event}, ignored` });
        return;
    }
  }

  #spawn(number: number): void {
    let generation: GenerationHandle;
    try {
      const cgroup = this.#cgroupFor(number);
      const io = { baseEnv: this.#baseEnv, sockets: this.#sockets, outFd: this.#logPipe?.outFd, errFd: this.#logPipe?.errFd, sampling: this.#sampling(), notify: this.#notifyDir, cgroup, own: this.#own };
      generation = this.#deps.startGeneration(generationSpec(this.#launch, number, io));
    } catch (error) {
      if (!(error instanceof SpawnError)) throw error;
      const status = exitStatusForSpawnError(error);
      this.emit('spawn-error', { error, status });
      // before anything already queued: the lifecycle must learn the generation never existed first
      this.#enqueue({ type: 'spawn-failed', generation: number, status }, true);
      return;
    }
    this.#generations.set(number, generation);
    const capBytes = this.#overrunRules?.capBytes;
    this.emit('start', { pid: generation.pid, generation: number, ...(capBytes !== undefined && { capBytes }) });
    generation.begin(this.#sink);
  }

  /** How a generation's memory is sampled: in the mode the cap and the system chose, at its pace. */
  #sampling(): Sampling | null {
    const mode = this.#watchMode;
    if (mode === null || this.#overrunRules === null) return null;
    return { mode, pace: paceOf(mode, this.#options.sampleInterval), capBytes: () => this.#overrunRules?.capBytes ?? 0, own: this.#own };
  }

  /** The generation's cgroup; one that cannot be made fails the spawn as a step before exec would (126). */
  #cgroupFor(number: number): GenerationCgroup | null {
    try {
      return this.#cgroups?.generation(number, this.#overrunRules?.capBytes ?? null) ?? null;
    } catch (error) {
      if (!(error instanceof CgroupError)) throw error;
      throw new SpawnError(this.#launch.options.program, `cgroup: ${error.op} ${error.path}`, error.code, undefined);
    }
  }

  #cancelRestart(): void {
    if (this.#restartTimer !== null) this.#deps.clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    this.#restartDelayMs = 0;
  }

  #finish(status: number, cause: string): void {
    this.#cancelRestart();
    for (const generation of this.#generations.values()) {
      generation.dispose();
      if (!generation.exit) generation.kill();
    }
    closeAll(this.#sockets);
    this.#notifyDir.close();
    this.#own?.close();
    releaseLaunch(this.#launch);
    this.emit('shutdown', { cause, status });
    // done once no orphan is left, everything the children wrote is in the log file, and their cgroups are gone
    void (async () => {
      await this.#reaper?.drain(1000);
      this.#reaper?.stop();
      await Promise.all([this.#logPipe?.close(), this.#cgroups?.close()]);
      this.#resolveDone(status);
    })();
  }
}
