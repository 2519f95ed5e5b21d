// What `angel bench` sees of a supervisor: its events by kind and generation with the moment each was emitted
// (the supervisor emits them synchronously inside its loop, so a listener's clock reads the moment itself), the
// exits no cycle caused, and each generation's peak memory.
import { signalNumber } from '../core/signames.js';
import type { ExitEvent } from '../core/types.js';
import type { Supervisor } from './supervisor.js';
import { now } from '../kernel/clock.js';
import { processState } from '../kernel/proctree.js';
import { Sampler } from '../kernel/sampler.js';

export type Phase = 'start' | 'restart' | 'reload' | 'stop';

/** Ends the run: a message for the user and the status angel exits with. */
export class BenchFailure extends Error {
  override name = 'BenchFailure';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/** SIGINT, SIGTERM or SIGHUP to `angel bench`: the cycle is abandoned and the program stopped. */
export class Interrupted extends Error {
  override name = 'Interrupted';
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}


export interface Seen<T = Record<string, unknown>> {
  at: number;
  event: T;
}

/** The supervisor's events by kind and generation, with the moment each was emitted. An exit the cycle did
 * not cause, or a spawn error, fails every wait. */
export class Watch {
  #seen = new Map<string, Seen>();
  #expected = new Set<number>();
  #failure: Error | null = null;
  #wakers = new Set<() => void>();
  #lastWarning: string | null = null;
  phase: Phase = 'start';

  constructor(supervisor: Supervisor, readonly describeExit: (exit: ExitEvent, phase: Phase, warning: string | null) => string) {
    const note = (kind: string, event: { generation: number }): void => {
      this.#seen.set(`${kind}:${event.generation}`, { at: now(), event: event as unknown as Record<string, unknown> });
      this.#wake();
    };
    supervisor.on('start', (event) => note('start', event));
    supervisor.on('ready', (event) => note('ready', event));
    supervisor.on('restart', (event) => note('restart', event));
    supervisor.on('exit', (event) => {
      note('exit', event);
      if (!this.#expected.has(event.generation)) this.fail(this.failureOf(event));
    });
    supervisor.on('warning', (event) => (this.#lastWarning = event.message));
    supervisor.on('spawn-error', (event) => this.fail(new BenchFailure(event.error.message, event.status)));
  }

  failureOf(exit: ExitEvent, detail = ''): BenchFailure {
    return new BenchFailure(`${this.describeExit(exit, this.phase, this.#lastWarning)}${detail}`, statusOf(exit));
  }

  /** Before the cycle acts on the current generation: one that died on its own (a zombie not yet reaped, or
   * already reported) fails the cycle here, instead of passing for the end the cycle was about to cause. */
  async running(supervisor: Supervisor): Promise<void> {
    const pid = supervisor.pid;
    const state = pid === undefined ? null : processState(pid);
    if (state === null || state === 'Z' || state === 'X') await this.until('exit', supervisor.generation);
  }

  expectExit(generation: number): void {
    this.#expected.add(generation);
  }

  /** The first failure wins: it is what went wrong; what follows is its consequence. */
  fail(error: Error): void {
    this.#failure ??= error;
    this.#wake();
  }

  async until<T = Record<string, unknown>>(kind: string, generation: number): Promise<Seen<T>> {
    for (;;) {
      if (this.#failure) throw this.#failure;
      const seen = this.#seen.get(`${kind}:${generation}`);
      if (seen) return seen as Seen<T>;
      await new Promise<void>((resolve) => this.#wakers.add(resolve));
    }
  }

  #wake(): void {
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const wake of wakers) wake();
  }
}

/** The shell's convention, as angel's own exit status; a program that exits 0 mid-cycle still failed the run. */
function statusOf(exit: ExitEvent): number {
  const status = exit.code ?? 128 + (exit.signal ? signalNumber(exit.signal) : 0);
  return status === 0 ? 1 : status;
}

/** Each generation's peak tree RSS, with the sampler --max-mem uses (kernel/sampler.ts) at --sample-interval,
 * plus a sample just before the cycle ends the generation, and angel's own peak when --max-mem made it sample.
 * Only what a generation held once it had started counts: from its readiness, and with --ready exec (ready at
 * exec, before the program ran an instruction of its own, where the kernel counts a few pages) from one
 * --sample-interval after it; measure() waits for that, so a generation the cycle ends has its figure. One that
 * ended without one is counted as not measured, never as 0. */
export class Peaks {
  #pids = new Map<number, number>();
  #samplers = new Map<number, Sampler>();
  #exited = new Set<number>();
  /** From when a generation's samples count. */
  #countsFrom = new Map<number, number>();
  #peaks = new Map<number, number>();
  readonly memory: Array<{ generation: number; peakRssBytes: number }> = [];
  /** The generations that ended without a sample that counts. */
  notMeasured = 0;

  constructor(supervisor: Supervisor, readonly intervalMs: number, readyExec: boolean) {
    supervisor.on('start', ({ pid, generation }) => {
      this.#pids.set(generation, pid);
      // not inside the supervisor's loop: the restart it is in the middle of is being timed
      setImmediate(() => this.#samplerOf(generation));
    });
    supervisor.on('ready', ({ generation }) => this.#countsFrom.set(generation, now() + (readyExec ? intervalMs : 0)));
    supervisor.on('exit', ({ generation, peakRssBytes }) => {
      this.#exited.add(generation);
      this.#samplers.get(generation)?.stop();
      const peak = this.#peaks.get(generation);
      if (peak === undefined) this.notMeasured++;
      else this.memory.push({ generation, peakRssBytes: Math.max(peak, peakRssBytes ?? 0) });
    });
  }

  #samplerOf(generation: number): Sampler | undefined {
    const pid = this.#pids.get(generation);
    if (this.#samplers.has(generation) || this.#exited.has(generation) || pid === undefined) return this.#samplers.get(generation);
    const sampler = new Sampler(pid, () => this.intervalMs, ({ rssBytes }) => this.#note(generation, rssBytes));
    this.#samplers.set(generation, sampler);
    sampler.start();
    return sampler;
  }

  #note(generation: number, rssBytes: number): void {
    const from = this.#countsFrom.get(generation);
    if (from === undefined || now() < from) return;
    this.#peaks.set(generation, Math.max(this.#peaks.get(generation) ?? 0, rssBytes));
  }

  /** A sample that counts, taken before the cycle ends the generation: at once, or once its samples count. */
  async measure(generation: number): Promise<void> {
    const from = this.#countsFrom.get(generation);
    if (from === undefined) return;
    const wait = from - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // a timer may fire a fraction of a millisecond before the clock reads its time: the wait is what counted
    this.#countsFrom.set(generation, Math.min(from, now()));
    this.#samplerOf(generation)?.sampleNow();
  }

  close(): void {
    for (const sampler of this.#samplers.values()) sampler.stop();
  }
}
