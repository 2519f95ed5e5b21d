// The driver: a loop of events in, effects out, and nothing decided here. Requests (start, reload, shutdown) and
// what generations report (ready, exit, samples, deadlines) become lifecycle events; the pure lifecycle
// (core/lifecycle.ts) returns the next state and the effects, which run here; the typed events a caller sees are
// emitted here, after the effects of the step that caused them. When to stop, restart or give up is the
// lifecycle's and core/backoff.ts's; what a sample means is core/overrun.ts's (through memory.ts); whose an orphan
// is, core/orphans.ts's (through orphans.ts); how a stop goes, core/stopping.ts's (through the generation).
import { NO_HISTORY, restartRulesOf, type RestartRules } from '../core/backoff.js';
import { exitStatusForSpawnError, SpawnError } from '../core/errors.js';
import { initialLifecycle, transition, watchOf, type Effect, type Lifecycle, type LifecycleEvent } from '../core/lifecycle.js';
import type { ResolvedCap } from '../core/memory.js';
import type { ResolvedOptions } from '../core/options.js';
import { withholding } from '../core/rewrite.js';
import { signalName, signalNumber, type SignalLike } from '../core/signames.js';
import type { ExitReason, ExitStatus, State } from '../core/types.js';
import type { CgroupTree } from '../kernel/cgrouptree.js';
import { now } from '../kernel/clock.js';
import type { LineWriter, LogPipe } from '../kernel/logpipe.js';
import { NotifyDirectory } from '../kernel/notify.js';
import { TreeReader } from '../kernel/proctree.js';
import type { Instance } from '../kernel/runtime.js';
import { closeAll, listenEnvironment, type HeldSocket } from '../kernel/sockets.js';
import { Environ, type PreparedSpawn } from '../kernel/spawn.js';
import type { GenerationHandle, GenerationSink } from './generation.js';
import { generationSpec, launchProgram, releaseLaunch, type Launch } from './launch.js';
import { MemoryWatch } from './memory.js';
import { OrderedEmitter } from './ordered.js';
import { Orphans } from './orphans.js';
import { REAL, type SupervisorDeps, type SupervisorParts } from './parts.js';
import { exitReport, readyReports } from './reports.js';
import { generationSink } from './sink.js';

export type { LineWriter } from '../kernel/logpipe.js';

export class Supervisor extends OrderedEmitter {
  readonly done: Promise<ExitStatus>;
  #resolveDone!: (status: ExitStatus) => void;
  readonly #deps: SupervisorDeps;
  readonly #sockets: readonly HeldSocket[];
  readonly #logPipe: LogPipe | null;
  /** --cgroup: this angel's cgroups, one per generation. */
  readonly #cgroups: CgroupTree | null;
  readonly #memory: MemoryWatch;
  readonly #instance: Instance | null;
  readonly #orphans: Orphans;
  #launch!: Launch;
  #rules!: RestartRules;
  /** angel's environment as every child gets it, converted once per launch: a restart should not walk it. */
  #baseEnv!: Environ;
  /** The launch's program, prepared once for all its generations. */
  #program!: PreparedSpawn;
  /** Which launch (config) the generations spawned from now run: 0 at start, one more per reload that took one. */
  #revision = -1;

  #life: Lifecycle = initialLifecycle(NO_HISTORY);
  /** Every generation not over yet: its first process may have ended while what is left of it is stopped. */
  #generations = new Map<number, GenerationHandle>();
  /** Why each generation after the first was started, as the lifecycle said: its restart's reason. */
  #restartReasons = new Map<number, ExitReason>();
  #queue: LifecycleEvent[] = [];
  #draining = false;
  #restartTimer: unknown = null;
  #restartDelayMs = 0;
  /** When the last current generation's first process died: a restart's latency is measured from here. */
  #diedAt = 0;
  #startWarnings: string[] = [];
  /** Where generations' NOTIFY_SOCKETs are made (--ready notify, --watchdog); nothing is created until one is. */
  readonly #notifyDir = new NotifyDirectory();
  #finished: (() => void) | null = null;

  constructor(launch: Launch, { sockets = [], logPipe = null, deps = {}, cgroups = null, own = null, instance = null }: SupervisorParts = {}) {
    super();
    [this.#deps, this.#sockets, this.#logPipe, this.#cgroups, this.#instance] = [{ ...REAL, ...deps }, sockets, logPipe, cgroups, instance];
    this.#memory = new MemoryWatch(own, cgroups !== null);
    this.#orphans = new Orphans(this.#deps.reaper, this.#generations, () => this.#life.current);
    if (logPipe) logPipe.onWarning = (warning) => this.emit('warning', warning);
    this.#take(launch);
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  #take(launch: Launch): void {
    this.#launch = launch;
    this.#revision++;
    this.#rules = restartRulesOf(launch.options, signalNumber(launch.options.stopSignal), this.#sockets.length > 0);
    this.#memory.take(launch.cap, launch.options);
    const instance = this.#instance === null ? {} : { ANGEL_INSTANCE: this.#instance.name };
    this.#baseEnv = Environ.of({ ...launch.env, ...listenEnvironment(this.#sockets), ...instance });
    this.#program = launchProgram(launch, this.#sockets.length > 0);
  }

  /** The options in force (a SIGHUP's config may have replaced those of the start). */
  get options(): ResolvedOptions {
    return this.#launch.options;
  }

  get state(): State {
    return this.#life.state;
  }

  /** The --max-mem cap in force and what it is a share of, or null. */
  get cap(): ResolvedCap | null {
    return this.#memory.cap;
  }

  /** The --max-mem cap in force, in bytes (a percentage resolved at the last start or reload), or null. */
  get capBytes(): number | null {
    return this.#memory.capBytes;
  }

  /** The serving child's pid, if there is one. */
  get pid(): number | undefined {
    const current = this.#life.current === null ? undefined : this.#generations.get(this.#life.current);
    return current && !current.exit ? current.pid : undefined;
  }

  /** Where this angel's control socket belongs (in its runtime instance), or null when it has none. */
  get controlPath(): string | null {
    return this.#instance?.controlPath ?? null;
  }

  /** The serving child's tree's resident memory read now (nothing samples it without --max-mem), or null. */
  residentNow(): number | null {
    const pid = this.pid;
    if (pid === undefined) return null;
    const reader = new TreeReader();
    try {
      const sample = reader.sample(pid);
      return sample.pids.length === 0 ? null : sample.rssBytes;
    } finally {
      reader.close();
    }
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
    this.#startWarnings.push(...[this.#memory.startWarning(now())].filter((message) => message !== null));
    for (const message of this.#startWarnings.splice(0)) this.emit('warning', { message });
    this.#orphans.start();
    this.#enqueue({ type: 'start' });
  }

  /** Takes a new launch for the next generations (a re-read config file, checked as at start). */
  updateLaunch(launch: Launch): void {
    releaseLaunch(this.#launch);
    this.#take(launch);
  }

  /** Graceful restart (or, with reload: 'signal', `forwarded` sent to the child: SIGHUP, or its --rewrite). An
   * N% cap's limit is read again first. */
  reload(forwarded: NodeJS.Signals = 'SIGHUP'): void {
    const cap = this.#memory.refresh(now(), true);
    if (cap !== null) this.emit('cap', cap);
    if (this.options.reload === 'signal') this.forward(forwarded);
    else this.#enqueue({ type: 'reload' });
  }

  /** Graceful shutdown: the signal to the child's group, SIGKILL after the kill timeout; a second call kills. */
  shutdown(signal: NodeJS.Signals = this.options.stopSignal, cause: string = signal): void {
    this.#enqueue({ type: 'shutdown', signal, cause });
  }

  /** Graceful stop with the stop signal, as shutdown() but reported as 'stop'. */
  stop(): void {
    this.shutdown(this.options.stopSignal, 'stop');
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
    const withheld = withholding(typeof signal === 'number' ? signalName(signal) : signal, this.#launch.rootChildForUser);
    if (withheld !== null) {
      this.emit('warning', { message: withheld });
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

  /** One lifecycle step: the effects first, then what happened, in the order it happened (ordered.ts). */
  #dispatch(event: LifecycleEvent): void {
    this.held(() => {
      const from = this.#life.state;
      const result = transition(this.#life, event, this.#rules);
      this.#life = result.next;
      if (result.next.state !== from) this.emit('state', { from, to: result.next.state, trigger: event.type });
      const ended = result.exit && event.type === 'exited' ? this.#generations.get(result.exit.generation) : undefined;
      if (ended && result.exit && event.type === 'exited') this.emit('exit', exitReport(ended, result.exit.reason, event.uptimeMs));
      if (result.ready) this.#reportReady(result.ready.generation, result.ready.overlapped);
      for (const effect of result.effects) this.#run(effect);
    });
  }

  readonly #sink: GenerationSink = generationSink({
    enqueue: (event) => this.#enqueue(event),
    emit: (name, ...payload) => this.emit(name, ...(payload as never)),
    held: (step) => this.held(step),
    options: () => this.options,
    watchOf: (generation) => watchOf(this.#life, generation),
    died: (generation, at) => {
      if (generation === this.#life.current) this.#diedAt = at;
    },
    gone: (generation) => {
      this.#generations.delete(generation);
      this.#restartReasons.delete(generation);
      this.#instance?.forget(generation);
      if (this.#generations.size === 0) this.#finished?.();
    },
    memory: () => this.#memory,
    orphans: () => this.#orphans,
  });

  #reportReady(number: number, overlapped: boolean): void {
    const generation = this.#generations.get(number);
    const reports = generation && readyReports(generation, this.#restartReasons.get(number) ?? null, overlapped, this.#diedAt, this.#restartDelayMs);
    if (!reports) return;
    this.emit('ready', reports.ready);
    if (reports.restart) this.emit('restart', reports.restart);
    this.#restartDelayMs = 0;
  }

  // ---- effects out ----

  #run(effect: Effect): void {
    switch (effect.type) {
      case 'spawn': return this.#spawn(effect.generation, effect.reason);
      case 'stop': {
        const signal = effect.signal === 'stop-signal' ? this.options.stopSignal : effect.signal;
        return this.#generations.get(effect.generation)?.stop(signal, this.options.killTimeout);
      }
      case 'kill': return this.#generations.get(effect.generation)?.kill();
      case 'warn': return void this.emit('warning', { message: effect.message });
      case 'schedule-restart':
        this.#restartDelayMs = effect.delayMs;
        this.#restartTimer = this.#deps.setTimeout(() => this.#enqueue({ type: 'backoff-elapsed' }), effect.delayMs);
        return;
      case 'cancel-restart': return this.#cancelRestart();
      case 'giveup': return void this.emit('giveup', { restarts: effect.restarts, windowSeconds: this.options.restartWindow, status: effect.status });
      case 'finish': return this.#finish(effect.status, effect.cause);
      case 'impossible': return void this.emit('warning', { message: `lifecycle: impossible event ${effect.event}, ignored` });
    }
  }

  #spawn(number: number, reason: ExitReason | null): void {
    let generation: GenerationHandle;
    try {
      const io = { program: this.#program, baseEnv: this.#baseEnv, sockets: this.#sockets, outFd: this.#logPipe?.outFd, errFd: this.#logPipe?.errFd, sampling: this.#memory.sampling(), notify: this.#notifyDir, cgroups: this.#cgroups, capBytes: this.capBytes, own: this.#memory.own };
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
    if (reason !== null) this.#restartReasons.set(number, reason);
    const capBytes = this.capBytes;
    const spawnMs = generation.execAt - generation.spawnAt;
    this.emit('start', { pid: generation.pid, generation: number, revision: this.#revision, spawnMs, ...(capBytes !== null && { capBytes }) });
    // its family first: begin() samples at once, and a sample may look for orphans, which on a loaded machine
    // can already include the child's own daemon (adopted into its family, not taken for no one's)
    this.#orphans.begun(generation);
    generation.begin(this.#sink);
    this.#instance?.record(number, generation.pid, generation.startTick);
  }

  #cancelRestart(): void {
    if (this.#restartTimer !== null) this.#deps.clearTimeout(this.#restartTimer);
    [this.#restartTimer, this.#restartDelayMs] = [null, 0];
  }

  /** The end: every generation is over once what is left of it is (each stopped, SIGKILL at its deadline), then
   * no orphan is left, everything the children wrote is in the log file, and their cgroups are gone. */
  #finish(status: number, cause: string): void {
    this.#cancelRestart();
    for (const generation of this.#generations.values()) {
      // a generation not being stopped (a spawn failure ended angel meanwhile) goes now
      if (!generation.exit) generation.kill();
    }
    closeAll(this.#sockets);
    this.#notifyDir.close();
    releaseLaunch(this.#launch);
    this.emit('shutdown', { cause, status });
    const over = new Promise<void>((resolve) => (this.#generations.size === 0 ? resolve() : (this.#finished = resolve)));
    void (async () => {
      await over;
      for (const generation of this.#generations.values()) generation.dispose();
      await this.#orphans.drain(1000);
      this.#memory.close();
      this.#instance?.release();
      await Promise.all([this.#logPipe?.close(), this.#cgroups?.close()]);
      this.#resolveDone(status);
    })();
  }
}
