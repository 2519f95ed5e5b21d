// The race against the kernel in a container: a steady leak in a cgroup limited to 256 MiB, angel in the same
// cgroup with --max-mem 90% (or 95%) of it, reading the cgroup's figure at a pace set by the headroom. angel wins
// when its stop signal ends the leak (the leaker dies of SIGTERM, exit reason overrun) before the kernel OOM-kills
// anything in the cgroup (memory.oom_control's oom_kill unchanged). Per cap, a ladder of leak rates doubling from
// the slowest until one is lost, then a bisection between the fastest won and the slowest lost, several trials a
// rate: the fastest rate at which every trial was won. Beside it the floor: a C poller reading the same figure of
// the same cgroup every 10 ms (the fastest pace angel goes to), started in the same way.
import { spawn } from 'node:child_process';
import { capBytes } from '../src/core/memory.js';
import { memoryCgroupOf } from '../src/kernel/cgroup.js';
import { childCgroup, inCgroup, oomKills, removeChildCgroup } from '../support/cgroup.js';
import type { Benchmark } from './lib/benchmark.js';
import { startAngel } from './lib/angel.js';
import { buildC } from './lib/compile.js';
import { errorRow, type Row } from './lib/table.js';

const LIMIT = 256 * 2 ** 20;
const PERCENTS = [90, 95];
/** MiB/s: the ladder's first rung (each next one doubles) and its last. */
const SLOWEST = 32;
const FASTEST = 8192;
/** The leaker waits this long before it leaks: angel's start-up is over. */
const SETTLE_MS = 500;
const FLOOR_INTERVAL_MS = 10;

interface Trial {
  won: boolean;
  /** What happened, when lost. */
  why?: string;
  /** MiB/s the leaker really leaked at (its last report). */
  achieved?: number;
}

/** The rate of the leaker's last `<ms> <MiB>` line. */
function achievedRate(lines: readonly string[]): number | undefined {
  const last = [...lines].reverse().find((line) => /^[\d.]+ [\d.]+$/.test(line));
  if (!last) return undefined;
  const [ms, mib] = last.split(' ').map(Number) as [number, number];
  return ms > 0 ? (mib * 1000) / ms : undefined;
}

async function angelTrial(leaker: string, percent: number, rate: number): Promise<Trial> {
  const dir = childCgroup('angel-bench-race', LIMIT);
  try {
    const angel = startAngel(['--max-mem', `${percent}%`, '--restart', 'never', '--kill-timeout', '5000', '--', leaker, String(rate), String(SETTLE_MS)], { quiet: true, cgroup: dir });
    const timeout = setTimeout(() => angel.process.kill('SIGKILL'), 60_000);
    const status = await angel.exited;
    clearTimeout(timeout);
    const exit = angel.events.find((event) => event.event === 'exit');
    const killed = oomKills(dir);
    const won = exit?.reason === 'overrun' && exit.signal === 'SIGTERM' && killed === 0;
    const why = won ? undefined : `angel exited ${status}, the leaker ${exit ? `${String(exit.reason)} (${String(exit.signal ?? exit.code)})` : 'never ended'}, ${killed} OOM kills`;
    return { won, ...(why && { why }), achieved: achievedRate(angel.stdout) };
  } finally {
    await removeChildCgroup(dir);
  }
}

async function floorTrial(leaker: string, percent: number, rate: number, mount: string): Promise<Trial> {
  const dir = childCgroup('angel-bench-race', LIMIT);
  try {
    const argv = inCgroup(dir, [buildC('overrun-floor'), 'container', String(FLOOR_INTERVAL_MS), String(capBytes({ percent }, LIMIT)), leaker, String(rate), String(SETTLE_MS)]);
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, OVERRUN_CGROUP: mount } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timeout = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    clearTimeout(timeout);
    const killed = oomKills(dir);
    const won = status === 0 && killed === 0;
    return { won, ...(!won && { why: `overrun-floor exited ${status}, ${killed} OOM kills` }), achieved: achievedRate(output.trim().split('\n')) };
  } finally {
    await removeChildCgroup(dir);
  }
}

interface Ladder {
  /** Each rate tried, in the order tried, with its trials. */
  tried: Array<{ rate: number; trials: Trial[] }>;
  fastestWon?: number;
  slowestLost?: number;
}

/** Doubles the rate until a trial is lost (or FASTEST is won), then bisects (geometrically) between the fastest
 * won and the slowest lost `steps` times. A rate is won when all its trials are. */
async function ladder(trial: (rate: number) => Promise<Trial>, trials: number, steps: number): Promise<Ladder> {
  const result: Ladder = { tried: [] };
  const attempt = async (rate: number): Promise<boolean> => {
    const done: Trial[] = [];
    for (let k = 0; k < trials; k++) {
      done.push(await trial(rate));
      if (!done.at(-1)?.won) break; // one loss settles the rate
    }
    result.tried.push({ rate, trials: done });
    const won = done.every((one) => one.won);
    if (won) result.fastestWon = Math.max(result.fastestWon ?? 0, rate);
    else result.slowestLost = Math.min(result.slowestLost ?? Infinity, rate);
    return won;
  };
  for (let rate = SLOWEST; rate <= FASTEST; rate *= 2) if (!(await attempt(rate))) break;
  for (let step = 0; step < steps && result.slowestLost !== undefined && result.fastestWon !== undefined; step++) {
    const middle = Math.round(Math.sqrt(result.fastestWon * result.slowestLost));
    if (middle <= result.fastestWon || middle >= result.slowestLost) break;
    await attempt(middle);
  }
  return result;
}

const mibs = (rate: number | undefined): string => (rate === undefined ? '-' : `${rate.toFixed(0)} MiB/s`);

function toRow(name: string, found: Ladder): Row {
  const won = found.tried.find((one) => one.rate === found.fastestWon);
  const achieved = won?.trials.map((one) => one.achieved).filter((value) => value !== undefined) ?? [];
  const lost = found.tried.find((one) => one.rate === found.slowestLost);
  return {
    name,
    values: {
      'fastest leak won (every trial)': found.fastestWon === undefined ? `none from ${SLOWEST} MiB/s` : mibs(found.fastestWon),
      'leaked at (its own clock)': achieved.length > 0 ? mibs(Math.min(...achieved)) : '-',
      'slowest lost': found.slowestLost === undefined ? `none up to ${FASTEST} MiB/s` : `${mibs(found.slowestLost)} (${lost?.trials.find((one) => !one.won)?.why ?? ''})`,
      'rates tried (won/trials)': found.tried.map((one) => `${one.rate} ${one.trials.filter((t) => t.won).length}/${one.trials.length}`).join(', '),
    },
  };
}

export const raceBenchmark: Benchmark = {
  name: 'race',
  async run({ quick }) {
    const trials = quick ? 1 : 3;
    const steps = quick ? 1 : 3;
    const leaker = buildC('leak-rate');
    const mount = memoryCgroupOf()?.mount;
    const rows: Row[] = [];
    for (const percent of PERCENTS) {
      const cap = `${percent}% of ${LIMIT / 2 ** 20} MiB (cap ${(capBytes({ percent }, LIMIT) / 2 ** 20).toFixed(1)} MiB)`;
      const floorName = `C poller of the cgroup's figure every ${FLOOR_INTERVAL_MS} ms, ${cap}`;
      const angelName = `angel --max-mem ${percent}% (the container mode), ${cap}`;
      if (!mount) {
        rows.push(errorRow(floorName, 'no memory cgroup mounted'), errorRow(angelName, 'no memory cgroup mounted'));
        continue;
      }
      try {
        rows.push(toRow(floorName, await ladder((rate) => floorTrial(leaker, percent, rate, mount), trials, steps)));
      } catch (error) {
        rows.push(errorRow(floorName, error));
      }
      try {
        rows.push(toRow(angelName, await ladder((rate) => angelTrial(leaker, percent, rate), trials, steps)));
      } catch (error) {
        rows.push(errorRow(angelName, error));
      }
    }
    /** "362 MiB/s at 90% (leaked at 355 by its own clock)", from a row of the table. */
    const fastest = (row: Row | undefined, percent: number): string =>
      row?.error !== undefined || !row
        ? `error at ${percent}%: ${row?.error}`
        : `${row.values?.['fastest leak won (every trial)']} at ${percent}% (leaked at ${row.values?.['leaked at (its own clock)']} by its own clock)`;
    return {
      title: `the race against the kernel's OOM kill in a ${LIMIT / 2 ** 20} MiB container: the fastest steady leak stopped first, ${trials} trial${trials > 1 ? 's' : ''} a rate`,
      unit: 'MiB/s',
      rows,
      notes: [
        `No target: the rates are what angel's container mode holds, for the README. Each trial makes a cgroup under the ` +
          `benchmark's own with memory.limit_in_bytes ${LIMIT / 2 ** 20} MiB and starts the watcher in it (a shell writes itself into ` +
          'cgroup.procs, then execs it); the watcher starts leak-rate.c, which waits ' +
          `${SETTLE_MS} ms, then leaks at the rate from its own start size, every millisecond what the rate owes it ` +
          '(a fresh mapping, MAP_POPULATE\'d, then written a byte a page: a populate that meets the limit gives up silently, and ' +
          'the write meets the OOM kill a program\'s own access would), and reports how fast it really leaked (the column beside: the machine faults pages in at a ' +
          "rate of its own). A trial is won when the leaker dies of SIGTERM, the watcher's stop signal (angel: its exit event " +
          "says reason overrun, signal SIGTERM), and the cgroup's oom_kill count is still 0. The ladder starts at " +
          `${SLOWEST} MiB/s and doubles until a rate is lost (up to ${FASTEST} MiB/s), then bisects ${steps} time${steps > 1 ? 's' : ''} ` +
          'between the fastest rate won and the slowest lost; one lost trial settles a rate. angel runs as ' +
          '`angel --max-mem N% --restart never -- leak-rate RATE 500`; its own memory (a Node process) is in the figure, so the ' +
          "leak has less room than the cap. The floor polls the same figure (usage less the clean page cache) every " +
          `${FLOOR_INTERVAL_MS} ms, angel's fastest pace, and sends SIGTERM to the leaker's group once it passes the cap.`,
      ],
      headline: [
        {
          measure: `the race against the kernel in a ${LIMIT / 2 ** 20} MiB container: the fastest steady leak angel's container mode stops before an OOM kill (the leaker's clock)`,
          angel: PERCENTS.map((percent, index) => fastest(rows[index * 2 + 1], percent)).join('; '),
          floor: `a C poller every ${FLOOR_INTERVAL_MS} ms: ${PERCENTS.map((percent, index) => fastest(rows[index * 2], percent)).join('; ')}`,
          peers: '',
          target: 'none (a property to report)',
        },
      ],
    };
  },
};
