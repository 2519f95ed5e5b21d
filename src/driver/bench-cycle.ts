// One cycle of `angel bench` against a fresh supervisor: start, crash restart, reload, stop, each timed from the
// supervisor's events as bench-watch.ts records them. The bench's own work (a memory sample, the tree snapshot,
// the probe's first answer) is done before each timed span begins.
import type { ResolvedOptions } from '../core/options.js';
import { formatProbe, type ProbeTarget } from '../core/probe.js';
import type { ExitEvent } from '../core/types.js';
import type { Supervisor } from './supervisor.js';
import { now } from '../kernel/clock.js';
import { Probe, type ProbeCount } from '../kernel/probe.js';
import { processState, treePids } from '../kernel/proctree.js';
import { BenchFailure, Interrupted, Peaks, Watch, type Phase, type Seen } from './bench-watch.js';

/** One timed span: the whole of it, and the part that was angel's (null where it has none to speak of); the
 * exit code of the generation it ended (null: ended by a signal), where it ended one. */
export interface Sample {
  totalMs: number;
  angelMs: number | null;
  exitCode?: number | null;
  [detail: string]: number | boolean | null | undefined;
}

export interface CycleResult {
  phases: Partial<Record<Phase, Sample>>;
  /** Each generation's peak tree RSS, in the order they started. */
  memory: Array<{ generation: number; peakRssBytes: number }>;
  /** Generations that ended without a sample of their memory that counts (bench-watch.ts's Peaks). */
  notMeasured: number;
  probe: ProbeCount | null;
}

/** How long a probe may go unanswered before a reload (the program was ready: it should answer). */
const PROBE_ANSWER_MS = 5000;

/** Waits until every pid of the tree is gone (a zombie counts as gone: it waits for a reaper, not for angel),
 * and returns when that was seen. */
async function treeGone(pids: readonly number[], deadlineMs: number): Promise<number> {
  const deadline = now() + deadlineMs;
  for (;;) {
    const alive = pids.filter((pid) => {
      const state = processState(pid);
      return state !== null && state !== 'Z' && state !== 'X';
    });
    if (alive.length === 0) return now();
    if (now() > deadline) throw new BenchFailure(`processes ${alive.join(', ')} of the tree outlived the stop by ${deadlineMs} ms`, 1);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

export interface CycleContext {
  number: number;
  options: ResolvedOptions;
  probe: ProbeTarget | null;
  /** Lets the caller interrupt the cycle (and stop the program) from a signal handler. */
  onWatch(watch: { fail(error: Error): void } | null): void;
}

const spanOf = (from: number, exec: number, ready: number): Sample => ({ totalMs: ready - from, angelMs: exec - from, programMs: ready - exec });

/** Where a span splits between angel and the program: the new generation's execve, on angel's clock as the child
 * read it just before the call (its ready event's startLatencyMs is spawn -> ready, its start event's spawnMs
 * spawn -> execve), never after the program's first instruction; placed back from the moment
 * the ready event arrived. Not the arrival of its start event: angel emits that once the child has had the CPU
 * (the yield after the spawn), and on a loaded machine later still, so a split there read the program's part short
 * of the program's own start-up. What angel's part holds beyond the exec is the ready event's way to the caller. */
const execOf = (start: Seen, ready: Seen): number =>
  ready.at - (ready.event as { startLatencyMs: number }).startLatencyMs + (start.event as { spawnMs: number }).spawnMs;

export async function runCycle(supervisor: Supervisor, context: CycleContext): Promise<CycleResult> {
  const { options } = context;
  const program = options.program;
  const watch = new Watch(supervisor, (exit, phase, warning) => {
    const how = exit.signal === null ? `exited with code ${exit.code}` : `died of ${exit.signal}`;
    const after = warning === null ? '' : ` (angel: ${warning})`;
    return `${program} (generation ${exit.generation}, pid ${exit.pid}) ${how} during the ${phase} of cycle ${context.number}${after}`;
  });
  const peaks = new Peaks(supervisor, options.sampleInterval, options.ready.kind === 'exec');
  const result: CycleResult = { phases: {}, memory: peaks.memory, notMeasured: 0, probe: null };
  context.onWatch(watch);
  try {
    result.phases.start = await start(supervisor, watch);
    result.phases.restart = await crashRestart(supervisor, watch, peaks);
    if (options.reload === 'restart') {
      const reloaded = await reload(supervisor, watch, peaks, context);
      result.phases.reload = reloaded.sample;
      result.probe = reloaded.probe;
    }
    result.phases.stop = await stop(supervisor, watch, peaks, options);
    await supervisor.done;
    result.notMeasured = peaks.notMeasured;
    return result;
  } catch (error) {
    // an interrupted cycle's supervisor was told by the signal handler; a failed one is stopped gracefully
    if (!(error instanceof Interrupted)) supervisor.shutdown();
    await supervisor.done;
    throw error;
  } finally {
    context.onWatch(null);
    peaks.close();
  }
}

/** launch -> ready: spawn -> exec is angel's, exec -> ready the program's. */
async function start(supervisor: Supervisor, watch: Watch): Promise<Sample> {
  watch.phase = 'start';
  const from = now();
  supervisor.start();
  const [start, ready] = await Promise.all([watch.until('start', 0), watch.until('ready', 0)]);
  return spanOf(from, execOf(start, ready), ready.at);
}

/** SIGKILL to the child -> the next generation ready: SIGKILL -> exec is angel's (the kernel's teardown, angel
 * noticing the death, the spawn), exec -> ready the program's. */
async function crashRestart(supervisor: Supervisor, watch: Watch, peaks: Peaks): Promise<Sample> {
  watch.phase = 'restart';
  const old = supervisor.generation;
  await watch.running(supervisor);
  await peaks.measure(old);
  watch.expectExit(old);
  const from = now();
  supervisor.forward('SIGKILL');
  const died = await watch.until<ExitEvent>('exit', old);
  if (died.event.signal !== 'SIGKILL') throw watch.failureOf(died.event, ", before angel's SIGKILL reached it");
  const [start, ready, restart] = await Promise.all([
    watch.until('start', old + 1), watch.until('ready', old + 1), watch.until<{ restartLatencyMs: number }>('restart', old + 1),
  ]);
  return { ...spanOf(from, execOf(start, ready), ready.at), noticedMs: died.at - from, restartLatencyMs: restart.event.restartLatencyMs, exitCode: died.event.code };
}

/** SIGHUP -> the next generation ready and the old one gone. angel's part is the request (or, without held
 * sockets, the old one's death) -> the next exec. With --probe, the client loop runs from one answer before
 * the reload to one answer after it. */
async function reload(supervisor: Supervisor, watch: Watch, peaks: Peaks, context: CycleContext): Promise<{ sample: Sample; probe: ProbeCount | null }> {
  watch.phase = 'reload';
  const old = supervisor.generation;
  await watch.running(supervisor);
  await peaks.measure(old);
  const target = context.probe;
  const probe = target === null ? null : new Probe(target);
  try {
    await probe?.answered(1, PROBE_ANSWER_MS).catch((error: Error) => {
      throw new BenchFailure(`--probe ${formatProbe(target as ProbeTarget)}: ${error.message}, before the reload of cycle ${context.number}`, 2);
    });
    watch.expectExit(old);
    const from = now();
    supervisor.reload();
    const [gone, start, ready] = await Promise.all([watch.until('exit', old), watch.until('start', old + 1), watch.until('ready', old + 1)]);
    const exec = execOf(start, ready);
    const overlapped = gone.at > exec;
    const angelFrom = overlapped ? from : gone.at;
    const sample: Sample = {
      totalMs: Math.max(ready.at, gone.at) - from, angelMs: exec - angelFrom, programMs: ready.at - exec, overlapped,
      killed: killedAfterTimeout(gone.event as unknown as ExitEvent, context.options), exitCode: (gone.event as unknown as ExitEvent).code,
    };
    // the new generation answers, or the failures say it did not
    await probe?.answered(1, PROBE_ANSWER_MS).catch(() => undefined);
    return { sample, probe: (await probe?.stop()) ?? null };
  } finally {
    await probe?.stop();
  }
}

/** The stop signal -> the tree gone (every process it had when the stop began). angel's part is sending the
 * signal, synchronously: none to speak of. */
async function stop(supervisor: Supervisor, watch: Watch, peaks: Peaks, options: ResolvedOptions): Promise<Sample> {
  watch.phase = 'stop';
  const current = supervisor.generation;
  await watch.running(supervisor);
  const pid = supervisor.pid;
  await peaks.measure(current);
  const tree = pid === undefined ? [] : treePids(pid);
  watch.expectExit(current);
  const from = now();
  supervisor.stop();
  const exit = await watch.until<ExitEvent>('exit', current);
  const goneAt = await treeGone(tree, options.killTimeout + 1000);
  return { totalMs: Math.max(exit.at, goneAt) - from, angelMs: null, killed: killedAfterTimeout(exit.event, options), exitCode: exit.event.code };
}

/** The stop signal was not enough: SIGKILL came at --kill-timeout (or at the 1.5x ceiling of --max-mem). */
const killedAfterTimeout = (exit: ExitEvent, options: ResolvedOptions): boolean => exit.signal === 'SIGKILL' && options.stopSignal !== 'SIGKILL';
