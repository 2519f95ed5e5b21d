// Spawn -> exec confirmed, /bin/true, in one run: the C floor (vfork), angel's fork path called from C, the
// addon called from Node, a prepared program's start as the supervisor calls it, spawnChild, and
// child_process.spawn; then the supervisor's start and child_process.spawn again
// with a large V8 heap, which fork copies page tables for and vfork (CLONE_VM) does not. All rows are
// sampled in alternating rounds (lib/interleave.ts), the floor in both phases. What forks (the C programs,
// child_process.spawn) does so in a side process (lib/side.ts): this one, which times angel's spawn, forks
// nothing, as the supervisor does not.
import { closeSync } from 'node:fs';
import { prepareProgram, prepareStrings, spawnProgram, watchExit } from '../src/kernel/syscalls.js';
import { Environ, PreparedSpawn, spawnChild, type ChildProcess } from '../src/kernel/spawn.js';
import { sampleInRounds, toRow, type Contender, type RoundsOptions, type Sampled } from './lib/interleave.js';
import { buildC, parseSamples, type BuildOptions } from './lib/compile.js';
import { elapsedMs, growHeap, SideProcess } from './lib/side.js';
import { ratioText } from './lib/stats.js';
import { msText, verdict, type Row, type Table } from './lib/table.js';
import type { Benchmark } from './lib/benchmark.js';
import { TARGETS } from './lib/targets.js';

const PROGRAM = '/bin/true';
const TARGET = TARGETS.spawnVsVfork;
const HEAP_BYTES = 512 * 2 ** 20;

/** A C helper built before any sample (cc is a fork of this process, which no row may follow): the binary, or
 * the build's failure, which errors the helper's row, not the benchmark. */
function builtBeforehand(name: string, options?: BuildOptions): () => string {
  try {
    const binary = buildC(name, options);
    return () => binary;
  } catch (error) {
    return () => {
      throw error;
    };
  }
}

/** Spawns at the start of each row's turn in a round that are not kept, in every row: a C program's run discards
 * its first (the page faults of a fresh process), and angel's rows theirs (the caches the rows before left cold:
 * the first spawn after another row's turn took 2-3x a later one here, the C floor's first as much). */
const BLOCK_WARMUP = 5;

/** A row sampled in this process or by the side process's Node, its turn begun with BLOCK_WARMUP spawns not kept,
 * as a C program's run begins (the C helpers take the count themselves). */
const unkeptFirst = (contender: Contender): Contender => ({
  name: contender.name,
  measure: async (count) => (await contender.measure(count + BLOCK_WARMUP)).slice(BLOCK_WARMUP),
});

/** A C helper run once per round in the side process; each run discards its own first few iterations. */
function cProgram(side: SideProcess, name: string, binary: () => string, extra: readonly string[] = []): Contender {
  return { name, measure: async (count) => parseSamples(await side.run(binary(), [String(count), String(BLOCK_WARMUP), ...extra])) };
}

/** The addon's call alone, its arguments prepared as the supervisor's start prepares them (the program converted
 * once, the environment's strings a prepared list); the exit is awaited untimed. */
function nativeCall(name: string): Contender {
  const envBase = prepareStrings(Object.entries(process.env).map(([key, value]) => `${key}=${value}`));
  const program = prepareProgram({
    path: PROGRAM, argv: [PROGRAM], cwd: null, rlimits: [], uid: -1, gid: -1, groups: null, noNewPrivs: false, execFd: -1, execFdInherit: false,
    parentDeathSignal: 0,
  });
  return unkeptFirst({
    name,
    async measure(count) {
      const samples: number[] = [];
      for (let i = 0; i < count; i++) {
        const start = process.hrtime.bigint();
        const [, pidfd] = spawnProgram(program, { envBase, env: [], listenPidIndex: -1, watchdogPidIndex: -1, fds: [0, 1, 2], cgroupFd: -1, cgroupProcsFd: -1 });
        samples.push(elapsedMs(start));
        await new Promise<void>((resolve) => watchExit(pidfd, () => resolve()));
        closeSync(pidfd);
      }
      return samples;
    },
  });
}

/** A start returns once exec is confirmed, so the call itself is timed; the exit is awaited untimed. `next`
 * makes the call's argument, untimed. */
function startCalls<T>(name: string, next: () => T, start: (argument: T) => ChildProcess): Contender {
  return unkeptFirst({
    name,
    async measure(count) {
      const samples: number[] = [];
      for (let i = 0; i < count; i++) {
        const argument = next();
        const begun = process.hrtime.bigint();
        const child = start(argument);
        samples.push(elapsedMs(begun));
        const exit = await child.exited;
        if (exit.code !== 0) throw new Error(`${PROGRAM} exited ${exit.code ?? exit.signal}`);
      }
      return samples;
    },
  });
}

/** child_process.spawn in the side process, to its 'spawn' event. */
function childProcessSpawns(side: SideProcess, name: string): Contender {
  return unkeptFirst({ name, measure: (count) => side.childProcessSpawns(PROGRAM, count) });
}

const median = (row: Row): number => row.summary?.median ?? NaN;
const ratioOf = (row: Row, floor: Row): string => `${(median(row) / median(floor)).toFixed(2)}x`;
const msDelta = (row: Row, from: Row): string => `${((median(row) - median(from)) * 1000).toFixed(0)} us`;

/** The ratio of medians to the floor with its bootstrap interval, and the target's verdict on it. */
function againstTarget(row: Sampled, floor: Sampled): string {
  if (row.error !== undefined || floor.error !== undefined) return 'no figure (errored)';
  const value = median(toRow(row)) / median(toRow(floor));
  return `<= ${TARGET}x: ${verdict(value <= TARGET)}, ${ratioText(row.samples, floor.samples)}`;
}

/** How much a row's ratio to its floor moved once the heap was grown: each phase against its own floor,
 * so load that differs between the phases cancels out. */
function heapGrowth(withHeap: Row, heapFloor: Row, without: Row, floor: Row): string {
  const value = median(withHeap) / median(heapFloor) / (median(without) / median(floor));
  return Number.isNaN(value) ? 'no figure' : `${value.toFixed(2)}x`;
}

interface Phases {
  plain: Sampled[];
  heavy: Sampled[];
  heapMiB: number;
}

/** Both phases' rows, sampled in rounds; the C programs and child_process.spawn run in `side`. */
async function samplePhases(side: SideProcess, rounds: RoundsOptions, binaries: { floor: () => string; path: () => string }): Promise<Phases> {
  const floor = cProgram(side, 'C floor: vfork + execve, a failure written to the shared memory', binaries.floor);
  const session = cProgram(side, 'C floor with a session: the same, the child calling setsid() before its execve', binaries.floor, ['session']);
  const path = cProgram(side, "angel's fork path from C (angel_spawn, no Node)", binaries.path);
  // The supervisor prepares a launch's program once (a PreparedSpawn) and converts its environment once (an
  // Environ), and starts each generation with that environment and the generation's variables
  // (driver/supervisor.ts, driver/launch.ts); spawnChild prepares its program for one start, and without `env`
  // walks process.env, an exotic object that calls into C++ for every key.
  const baseEnv = Environ.of(process.env);
  const program = new PreparedSpawn({ program: PROGRAM });
  let generation = 0;
  const asTheSupervisor = (): { env: Environ } => ({ env: baseEnv.with({ ANGEL_GENERATION: String(generation++) }) });
  const supervisorStarts = (name: string): Contender => startCalls(name, asTheSupervisor, (start) => program.start(start));
  const plain = await sampleInRounds(
    [
      floor,
      session,
      path,
      nativeCall('angel addon call (spawn of a program prepared once, arguments ready)'),
      supervisorStarts('angel as the supervisor calls it: a program prepared once per launch, started with the generation\'s environment'),
      startCalls("angel spawnChild({ program: '/bin/true' }) (prepared for one start, walks process.env)", () => ({ program: PROGRAM }), spawnChild),
      childProcessSpawns(side, "child_process.spawn, to its 'spawn' event (in the side process)"),
    ],
    rounds,
  );

  // Second phase: the same floor again, sampled beside the heavy rows, so each is compared with the
  // floor of its own moment.
  const grown = growHeap(HEAP_BYTES);
  const sideHeap = await side.growHeap(HEAP_BYTES);
  const heavy = await sampleInRounds(
    [
      { ...floor, name: 'C floor, sampled beside the heap rows below' },
      supervisorStarts(`angel as the supervisor calls it, ${grown.heapMiB} MiB heap (RSS ${grown.rssMiB} MiB)`),
      childProcessSpawns(side, `child_process.spawn, ${sideHeap.heapMiB} MiB heap (RSS ${sideHeap.rssMiB} MiB)`),
    ],
    rounds,
  );
  grown.release();
  return { plain, heavy, heapMiB: grown.heapMiB };
}

export const spawnBenchmark: Benchmark = {
  name: 'spawn',
  async run({ quick }) {
    const rounds = { samples: quick ? 100 : 300, rounds: quick ? 4 : 10, warmup: 20 };
    const binaries = { floor: builtBeforehand('spawn-floor'), path: builtBeforehand('spawn-path', { with: ['native/spawn.c'] }) };
    const side = SideProcess.start();
    let phases: Phases;
    try {
      phases = await samplePhases(side, rounds, binaries);
    } finally {
      side.stop();
    }
    const { plain, heavy, heapMiB } = phases;

    const [floorRow, sessionRow, pathRow, nativeRow, preparedRow, walkingRow, nodeRow] = plain.map((sampled) => toRow(sampled)) as [Row, Row, Row, Row, Row, Row, Row];
    const [heapFloorRow, preparedHeapRow, nodeHeapRow] = heavy.map((sampled) => toRow(sampled)) as [Row, Row, Row];
    const [floorSampled, , , , preparedSampled] = plain as [Sampled, Sampled, Sampled, Sampled, Sampled];
    const [heapFloorSampled, preparedHeapSampled] = heavy as [Sampled, Sampled];
    preparedRow.target = againstTarget(preparedSampled, floorSampled);
    preparedHeapRow.floor = heapFloorRow.name;
    preparedHeapRow.target = againstTarget(preparedHeapSampled, heapFloorSampled);
    nodeHeapRow.floor = heapFloorRow.name;

    return {
      title: `spawn -> exec confirmed (${PROGRAM}), ${rounds.samples} samples per row after ${rounds.warmup} warm-up, in ${rounds.rounds} alternating rounds (each turn after ${BLOCK_WARMUP} unkept)`,
      unit: 'ms',
      floor: floorRow.name,
      rows: [floorRow, preparedRow, sessionRow, pathRow, nativeRow, walkingRow, nodeRow, heapFloorRow, preparedHeapRow, nodeHeapRow],
      notes: [
        `Target (benchmarks/lib/targets.ts): spawn -> exec confirmed, as the supervisor calls it, within ${TARGET}x of the C vfork ` +
          "floor at the median, and the same with a large heap. Every row is the caller's clock (CLOCK_MONOTONIC) around " +
          'one spawn, from the call to the exec confirmed (a start returns once it is; the exit is awaited untimed). The ' +
          "target row is a start as the supervisor calls it: the launch's program prepared once (a PreparedSpawn), its " +
          "environment converted once (an Environ), and each generation's derived from it. The rows below it take it " +
          "apart: the fork path called from C, the bare addon call from Node with its arguments ready, and " +
          "spawnChild({ program: '/bin/true' }), a one-off: its program prepared for the one start, and without `env` " +
          'process.env walked, an exotic object that calls into C++ for every key. Each row\'s turn in a round ' +
          `begins with ${BLOCK_WARMUP} spawns not kept, in every row (the C programs' are a fresh process's page faults; angel's and ` +
          "child_process.spawn's the caches the row before left cold).",
        `Where the target row's time goes, by the rows below it: angel's fork path called from C is ${ratioOf(pathRow, floorRow)} of ` +
          'the floor by itself, its own steps beyond vfork + execve (the pidfd the clone makes, a session of its own, the ' +
          "child's ignored signals reset, the fd map), where the target leaves the whole call " +
          `${TARGET}x; of those, the session alone makes the floor ${ratioOf(sessionRow, floorRow)} (setsid: the kernel makes each ` +
          'session a scheduling autogroup, allocated per CPU, where CONFIG_SCHED_AUTOGROUP is set); called from Node with ' +
          `its arguments ready, ${msDelta(nativeRow, pathRow)} more (the spawn's own arguments converted, the program ` +
          "prepared once as the supervisor has it, and a process that runs JavaScript between its spawns); the start " +
          `around it ${msDelta(preparedRow, nativeRow)} more (the generation's environment strings, the Child).`,
        `Heap (${heapMiB} MiB of small objects; the heap rows against the floor sampled beside them): the start's ratio ` +
          `moves ${heapGrowth(preparedHeapRow, heapFloorRow, preparedRow, floorRow)} (CLONE_VM: no page tables copied), ` +
          `child_process.spawn's ${heapGrowth(nodeHeapRow, heapFloorRow, nodeRow, floorRow)} (libuv forks).`,
      ],
      headline: [
        {
          measure: "spawn -> exec confirmed, as the supervisor calls it (the caller's clock around the call)",
          angel: `${msText(median(preparedRow))}; ${msText(median(preparedHeapRow))} with a ${heapMiB} MiB heap`,
          floor: `${msText(median(floorRow))}, vfork + exec`,
          peers: `child_process.spawn ${msText(median(nodeRow))}`,
          target: `${preparedRow.target ?? preparedRow.error ?? ''}; with the heap ${preparedHeapRow.target ?? preparedHeapRow.error ?? ''}`,
        },
      ],
    };
  },
};
