// The driver with its seams: generations and the restart timer injected, so the interleavings of overlap,
// deadlines and the hard ceiling are run in milliseconds, event by event, without processes. The same paths
// run with real processes in face/cli.test.ts, kernel/sockets.test.ts and index.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpawnError } from '../../src/core/errors.js';
import { resolveOptions } from '../../src/core/options.js';
import type { Options } from '../../src/core/types.js';
import type { GenerationHandle, GenerationSink, GenerationSpec } from '../../src/driver/generation.js';
import type { Launch } from '../../src/driver/launch.js';
import type { ReaperFactory } from '../../src/driver/orphans.js';
import { Supervisor } from '../../src/driver/supervisor.js';
import type { ChildExit } from '../../src/kernel/spawn.js';
import type { HeldSocket } from '../../src/kernel/sockets.js';

class FakeGeneration implements GenerationHandle {
  readonly pid: number;
  readonly spawnAt = 0;
  readonly execAt = 0;
  readyAt: number | undefined;
  readonly startTick = null;
  exit: ChildExit | undefined;
  peakRssBytes: number | null = null;
  samplesOver = 0;
  readonly lastTree: number[] = [];
  readonly did: string[] = [];
  #sink: GenerationSink | null = null;

  constructor(readonly number: number, readonly spec: GenerationSpec) {
    this.pid = 1000 + number;
  }

  begin(sink: GenerationSink): void {
    this.#sink = sink;
    // as the real one: sampled at once where it is sampled
    if (this.spec.sampling !== null) this.sample(0);
    // as the real one: with --ready exec, started is ready
    if (this.spec.ready.kind === 'exec') this.ready();
  }
  stop(signal: NodeJS.Signals, killTimeoutMs: number): void {
    this.did.push(`stop ${signal} ${killTimeoutMs}`);
  }
  kill(): void {
    this.did.push('kill');
  }
  adopt(pid: number): void {
    this.did.push(`adopt ${pid}`);
  }
  signal(signal: NodeJS.Signals | number): boolean {
    this.did.push(`signal ${signal}`);
    return true;
  }
  dispose(): void {}

  // what the kernel would report
  ready(): void {
    this.readyAt = 1;
    this.#sink?.ready(this, 1);
  }
  sample(rssBytes: number): void {
    this.peakRssBytes = Math.max(this.peakRssBytes ?? 0, rssBytes);
    this.#sink?.sample(this, { pids: [this.pid], rssBytes });
  }
  deadline(): void {
    this.#sink?.deadline(this);
  }
  exits(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.exit = { code, signal, coreDumped: false };
    this.#sink?.exited(this, this.exit, 10);
    // nothing of it is left: it is over
    this.#sink?.gone(this);
  }
}

interface Rig {
  supervisor: Supervisor;
  generations: FakeGeneration[];
  /** What the next spawn does: a generation, or this error. */
  failNext: (error: SpawnError) => void;
  events: Array<[string, Record<string, unknown>]>;
  timers: Array<{ fire: () => void; ms: number }>;
}

/** The caps below are in MiB: a cap under 1 MiB is refused as it is parsed. */
const MiB = 2 ** 20;

function rig(options: Partial<Options>, sockets = 0, reaper: ReaperFactory | null = null): Rig {
  const generations: FakeGeneration[] = [];
  const failures: SpawnError[] = [];
  const timers: Rig['timers'] = [];
  const resolved = resolveOptions({ program: 'server', ...options });
  const launch: Launch = { options: resolved, identity: null, env: {}, program: null, cap: typeof resolved.maxMem === 'number' ? { capBytes: resolved.maxMem, ofBytes: null, source: 'size' } : null, rootChildForUser: false };
  const held: HeldSocket[] = Array.from({ length: sockets }, (_, index) => ({ spec: { kind: 'inet', name: `s${index}`, family: 4, address: '127.0.0.1', port: 1, text: '1', dualStack: false }, fd: -1, port: 1, bound: null }));
  const supervisor = new Supervisor(launch, { sockets: held, deps: {
    startGeneration: (spec) => {
      const failure = failures.shift();
      if (failure) throw failure;
      const generation = new FakeGeneration(spec.number, spec);
      generations.push(generation);
      return generation;
    },
    setTimeout: (fire, ms) => timers.push({ fire, ms }),
    clearTimeout: () => {},
    reaper,
  } });
  const events: Rig['events'] = [];
  for (const name of ['start', 'ready', 'exit', 'overrun', 'restart', 'giveup', 'shutdown', 'warning', 'spawn-error'] as const) {
    supervisor.on(name, (event: object) => events.push([name, event as Record<string, unknown>]));
  }
  return { supervisor, generations, failNext: (error) => failures.push(error), events, timers };
}

const named = (events: Rig['events'], name: string): Array<Record<string, unknown>> => events.filter(([event]) => event === name).map(([, body]) => body);
const gen = (r: Rig, number: number): FakeGeneration => {
  const found = r.generations.find((generation) => generation.number === number);
  assert.ok(found, `generation ${number} was started`);
  return found;
};

test('an orphan found by the first sample of a generation is its own: its family is known before it begins', () => {
  // on a loaded machine the child has daemonized by the time angel begins the generation; the first sample sees a
  // new tree and looks for orphans at once. A pid no process has (above pid_max): were it killed, nothing is hit.
  const daemon = 2 ** 22 + 7;
  let report: ((orphan: { pid: number; session: number; startTick: number | null; generation: number | null }) => void) | null = null;
  const reaper: ReaperFactory = (_ownPids, onOrphan) => {
    report = onOrphan;
    return { start: () => {}, scan: () => report?.({ pid: daemon, session: daemon, startTick: null, generation: 0 }), scanSoon: () => {}, drain: async () => {}, stop: () => {} };
  };
  const r = rig({ maxMem: 100 * MiB }, 0, reaper);
  r.supervisor.start();
  assert.ok(report !== null, 'the reaper was made');
  assert.deepEqual(gen(r, 0).did, [`adopt ${daemon}`], 'adopted into generation 0, not killed as no one\'s');
});

test('a restart spawns the successor before the exit is told: listeners of exit run once the next child exists, and the events keep their order', () => {
  const r = rig({ maxRestartDelay: 0, minUptime: 0 });
  const order: string[] = [];
  r.supervisor.on('exit', (event) => order.push(`exit ${event.generation}, generations started ${r.generations.length}`));
  r.supervisor.on('start', (event) => order.push(`start ${event.generation}`));
  r.supervisor.start();
  gen(r, 0).exits(1);
  assert.equal(r.generations.length, 2, 'restarted at once');
  assert.deepEqual(order, ['start 0', 'exit 0, generations started 2', 'start 1']);
});

test('a failed overlapping spawn reports its real status (127 not found, 126 not runnable) and invents no exit; the current one serves on', () => {
  const r = rig({ ready: 'fd' }, 1);
  r.supervisor.start();
  gen(r, 0).ready();
  r.failNext(new SpawnError('server', 'execve', 'ENOENT', 2));
  r.supervisor.reload();
  assert.deepEqual(named(r.events, 'spawn-error').map((event) => event.status), [127]);
  assert.match(String(named(r.events, 'warning')[0]?.message), /failed to start \(status 127\)/);
  r.failNext(new SpawnError('server', 'execve', 'EACCES', 13));
  r.supervisor.reload();
  assert.deepEqual(named(r.events, 'spawn-error').map((event) => event.status), [127, 126]);
  assert.match(String(named(r.events, 'warning')[1]?.message), /failed to start \(status 126\)/);
  assert.deepEqual(named(r.events, 'exit'), [], 'no exit was invented for a child that never ran');
  assert.equal(r.supervisor.state, 'running');
  assert.equal(r.supervisor.pid, 1000);
  assert.deepEqual(gen(r, 0).did, [], 'the serving generation was left alone');
  // the next successful spawn is generation 1: a generation that never ran is not counted
  r.supervisor.reload();
  assert.equal(gen(r, 1).spec.start.env?.constructor.name, 'Environ');
  gen(r, 1).ready();
  assert.equal(r.supervisor.pid, 1001);
  assert.deepEqual(gen(r, 0).did, ['stop SIGTERM 5000']);
});

test('an overrun stops its generation before the overrun event is told: its listeners see the stop signal sent, and the events keep their order', () => {
  const r = rig({ maxMem: '100M', killTimeout: 5000 });
  const seen: string[] = [];
  r.supervisor.on('overrun', (event) => seen.push(`overrun ${event.rssBytes / MiB} MiB, did ${gen(r, 0).did.join(', ')}`));
  r.supervisor.on('state', (event) => seen.push(`state ${event.to}`));
  r.supervisor.start();
  gen(r, 0).sample(120 * MiB);
  assert.deepEqual(seen, ['state starting', 'state running', 'overrun 120 MiB, did stop SIGTERM 5000', 'state stopping']);
});

test('the hard ceiling: a tree past 1.5x the cap during its overrun\'s grace period is SIGKILLed at once', () => {
  const r = rig({ maxMem: '100M', killTimeout: 5000 });
  r.supervisor.start();
  const first = gen(r, 0);
  first.sample(90 * MiB);
  assert.deepEqual(first.did, []);
  first.sample(120 * MiB);
  assert.deepEqual(first.did, ['stop SIGTERM 5000']);
  first.sample(149 * MiB);
  assert.deepEqual(first.did, ['stop SIGTERM 5000'], 'within the ceiling: the grace period goes on');
  first.sample(151 * MiB);
  assert.deepEqual(first.did, ['stop SIGTERM 5000', 'kill']);
  assert.deepEqual(named(r.events, 'overrun').map((event) => [event.rssBytes, event.hardKill]), [[120 * MiB, undefined], [151 * MiB, true]]);
  first.exits(null, 'SIGKILL');
  assert.deepEqual(named(r.events, 'exit').map((event) => [event.reason, event.peakRssBytes]), [['overrun', 151 * MiB]]);
  assert.equal(gen(r, 1).number, 1, 'restarted at once');
});

test('overlap: an overrunning generation past the ceiling is killed while its successor warms up; the successor takes over', () => {
  const r = rig({ maxMem: '100M', ready: 'fd' }, 1);
  r.supervisor.start();
  gen(r, 0).ready();
  gen(r, 0).sample(101 * MiB);
  assert.equal(r.supervisor.state, 'reloading');
  assert.deepEqual(gen(r, 0).did, [], 'it serves until its successor is ready');
  gen(r, 1).sample(500 * MiB);
  assert.deepEqual(gen(r, 1).did, [], 'a successor warming up is not judged');
  gen(r, 0).sample(160 * MiB);
  assert.deepEqual(gen(r, 0).did, ['kill']);
  gen(r, 0).exits(null, 'SIGKILL');
  assert.equal(r.supervisor.state, 'starting');
  assert.deepEqual(named(r.events, 'exit').map((event) => event.reason), ['overrun']);
  gen(r, 1).ready();
  assert.equal(r.supervisor.state, 'running');
  assert.equal(r.supervisor.pid, 1001);
});

test('overlap: the retiring generation\'s deadline kills it, and its exit is reported as a reload', () => {
  const r = rig({ ready: 'fd', killTimeout: 250 }, 1);
  r.supervisor.start();
  gen(r, 0).ready();
  r.supervisor.reload();
  gen(r, 1).ready();
  assert.deepEqual(gen(r, 0).did, ['stop SIGTERM 250']);
  gen(r, 0).deadline();
  assert.deepEqual(gen(r, 0).did, ['stop SIGTERM 250', 'kill']);
  gen(r, 0).exits(null, 'SIGKILL');
  assert.deepEqual(named(r.events, 'exit').map((event) => [event.generation, event.reason]), [[0, 'reload']]);
  assert.equal(r.supervisor.state, 'running');
  assert.deepEqual(named(r.events, 'restart').map((event) => event.restartLatencyMs), [0], 'an overlapped reload has no gap');
});

test('shutdown during an overlapping reload: both get the signal, the deadline kills, angel ends with the current one\'s status', async () => {
  const r = rig({ ready: 'fd' }, 1);
  r.supervisor.start();
  gen(r, 0).ready();
  r.supervisor.reload();
  r.supervisor.shutdown('SIGINT');
  assert.deepEqual([gen(r, 0).did, gen(r, 1).did], [['stop SIGINT 5000'], ['stop SIGINT 5000']]);
  gen(r, 1).ready();
  assert.deepEqual(named(r.events, 'ready').map((event) => event.generation), [0], 'the abandoned successor never counts as started');
  gen(r, 0).deadline();
  assert.deepEqual(gen(r, 0).did, ['stop SIGINT 5000', 'kill']);
  gen(r, 1).exits(null, 'SIGINT');
  gen(r, 0).exits(null, 'SIGKILL');
  assert.equal(await r.supervisor.done, 137);
  assert.deepEqual(named(r.events, 'exit').map((event) => [event.generation, event.reason]), [[1, 'shutdown'], [0, 'shutdown']]);
});

test('backoff through the injected timer: immediate first restart, then 100 ms, then 200 ms', () => {
  const r = rig({});
  r.supervisor.start();
  gen(r, 0).exits(1);
  assert.equal(r.generations.length, 2, 'the first restart is immediate');
  gen(r, 1).exits(1);
  assert.equal(r.supervisor.state, 'backoff');
  assert.deepEqual(r.timers.map((timer) => timer.ms), [100]);
  r.timers[0]?.fire();
  gen(r, 2).exits(1);
  assert.deepEqual(r.timers.map((timer) => timer.ms), [100, 200]);
  assert.deepEqual(named(r.events, 'restart').map((event) => event.delayMs), [0, 100]);
});
