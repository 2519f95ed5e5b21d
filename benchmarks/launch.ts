// Launch: angel started as users run it (bin/angel, a sh launcher that execs Node with a guard flag, then angel's
// CLI) -> the first instruction of the program it runs, beside the least a launch costs (the program started
// directly) and bare Node's start (`node -e 0`, started -> exited), the base of the target. launch-timer.c starts
// each, one at a time, in rotating rounds of two launches a row: a slow spell of the shared host falls on every
// row alike (in rounds of ten, three full runs of one commit read +23 to +44 ms over node -e 0). 120 launches a
// row: at 60, sampling alone moved the target's figure (the difference of the two medians) by a few ms (ten runs
// of one commit read +11.2 to +18.0 ms); its bootstrap interval is printed beside it.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { summarize } from '../src/core/stats.js';
import type { Benchmark } from './lib/benchmark.js';
import { buildCliFloor, type CliFloor } from './lib/cli-floor.js';
import { angelCommand, BIN_ANGEL, buildC, launcherFlags, parseSamples, runC } from './lib/compile.js';
import { sampleInRounds, toRow, type Contender, type Sampled } from './lib/interleave.js';
import { profiledRun } from './lib/profile.js';
import { differenceText } from './lib/stats.js';
import { fmt, msText, verdict, type Row } from './lib/table.js';
import { TARGETS } from './lib/targets.js';

const TARGET_MS = TARGETS.launchOverNodeMs;

/** The launch profile's sampling interval: a launch is some tens of ms, and V8's default (1 ms) gave each
 * function a sample or none. */
const PROFILE_INTERVAL_US = 100;

/** Where one launch's time goes in angel's Node process, as bin/angel runs it (Node reading bin/angel, which
 * compiles the bundle with its code cache), by a V8 CPU profile, up to its program's first instruction (the
 * moment restart-child notes in its log). */
const launchProfile = (child: string, log: string): Promise<string> =>
  profiledRun((cpuProf) => {
    rmSync(log, { force: true });
    const [node, ...args] = angelCommand([...cpuProf, '--cpu-prof-interval', String(PROFILE_INTERVAL_US)]);
    const run = spawnSync(node as string, [...args, '--restart', 'never', '--', child, log], { stdio: 'ignore' });
    if (run.error) throw run.error;
    const started = /^s (\d+)$/m.exec(readFileSync(log, 'utf8'));
    if (!started) throw new Error(`${child} noted no start in ${log}`);
    return { untilUs: Number(BigInt(started[1] as string) / 1000n), functions: 8 };
  }, 10);

/** Pages first touched, the launch's other profile: the minor faults angel's process has taken by its program's
 * first instruction against `node -e 0`'s whole life (medians), priced by page-touch.c on this machine. On a
 * virtual machine where a first touch costs over 10 us, a launch's extra pages are a large share of its time. */
function pageFaults(log: string, child: string, env: NodeJS.ProcessEnv, quick: boolean): string {
  try {
    const count = quick ? 3 : 15;
    const median = (text: string): number => summarize(parseSamples(text)).median;
    const timer = buildC('launch-timer');
    const node = median(runC(timer, [String(count), '1', 'exit-faults', log, process.execPath, '-e', '0'], env));
    const angel = median(runC(timer, [String(count), '1', 'log-faults', log, BIN_ANGEL, '--restart', 'never', '--', child, log, '0', 'faults'], env));
    const touch = median(Array.from({ length: 5 }, () => runC(buildC('page-touch'), ['16'])).join('\n'));
    const extra = angel - node;
    return (
      `angel's process had taken ${angel} minor page faults by its program's first instruction, \`node -e 0\` ${node} in its whole life ` +
      `(medians of ${count}); a first touch of a fresh page costs ${fmt(touch)} us here (benchmarks/page-touch.c, 16 MiB), so the ${extra} pages more ` +
      `are about ${fmt((extra * touch) / 1000)} ms of the launch's time over \`node -e 0\``
    );
  } catch (error) {
    return `no figure (${(error as Error).message})`;
  }
}

/** "+11.8 ms" (commander's floor over `node -e 0`), or why there is none. */
function commanderOver(row: Row | undefined, node: number): string {
  const median = row?.summary?.median;
  if (row?.error !== undefined || median === undefined) return `no figure (${row?.error ?? 'not measured'})`;
  const over = median - node;
  return `${over >= 0 ? '+' : ''}${fmt(over)} ms`;
}

export const launchBenchmark: Benchmark = {
  name: 'launch',
  async run({ quick }) {
    const log = join(tmpdir(), `angel-bench-launch-${process.pid}.log`);
    // bin/angel runs the `node` on PATH: this one
    const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
    const launches = (name: string, mode: 'exit' | 'log', command: () => string[]): Contender => ({
      name,
      measure: (count) => parseSamples(runC(buildC('launch-timer'), [String(count), '0', mode, log, ...command()], env)),
    });
    const child = (): string => buildC('restart-child', { static: true });
    const names = {
      floor: 'C floor: the program itself (restart-child), posix_spawn -> its main()',
      node: 'bare Node: `node -e 0`, posix_spawn -> exited',
      angel: 'angel as users run it: `bin/angel --restart never -- restart-child`, posix_spawn -> the child\'s main()',
      cli: 'the same without the sh launcher: `node -- bin/angel …` (Node reading the launcher itself)',
      commander: "Node with commander alone, bundled and code-cached as angel's bundle is, defining `angel run`'s 43 options and parsing a line, posix_spawn -> exited",
    };
    let cliFloor: CliFloor | Error;
    try {
      cliFloor = await buildCliFloor(launcherFlags());
    } catch (error) {
      cliFloor = error as Error;
    }
    const floorCommand = (): string[] => {
      if (cliFloor instanceof Error) throw cliFloor;
      return cliFloor.command;
    };
    const sampled = await sampleInRounds(
      [
        launches(names.floor, 'log', () => [child(), log]),
        launches(names.node, 'exit', () => [process.execPath, '-e', '0']),
        launches(names.angel, 'log', () => [BIN_ANGEL, '--restart', 'never', '--', child(), log]),
        launches(names.cli, 'log', () => [process.execPath, ...launcherFlags(), '--', BIN_ANGEL, '--restart', 'never', '--', child(), log]),
        launches(names.commander, 'exit', floorCommand),
      ],
      { samples: quick ? 10 : 120, rounds: quick ? 5 : 60, warmup: 2 },
    );
    const profile = await launchProfile(child(), log);
    const faults = pageFaults(log, child(), env, quick);
    rmSync(log, { force: true });
    if (!(cliFloor instanceof Error)) cliFloor.remove();
    const rows: Row[] = sampled.map((one) => toRow(one));
    const [, nodeRow, angelRow, , commanderRow] = rows as [Row, Row, Row, Row, Row];
    const node = nodeRow.summary?.median ?? NaN;
    const angel = angelRow.summary?.median ?? NaN;
    if (angelRow.error === undefined && nodeRow.error === undefined) {
      const over = angel - node;
      const [, nodeSamples, angelSamples] = sampled as [Sampled, Sampled, Sampled];
      angelRow.target = `<= node -e 0 + ${TARGET_MS} ms: ${verdict(over <= TARGET_MS)}, ${differenceText(angelSamples.samples, nodeSamples.samples)}`;
    }
    return {
      title: `launch -> the program's first instruction, ${summarize(sampled[0]?.samples ?? []).samples} launches per row in rotating rounds`,
      unit: 'ms',
      floor: names.node,
      rows,
      notes: [
        `Target (benchmarks/lib/targets.ts): angel's launch within bare Node's start + ${TARGET_MS} ms at the median, both in this run. ` +
          'The interval beside the difference is a bootstrap of the two rows\' medians (seeded): how far the difference could move from sampling alone. The clock is CLOCK_MONOTONIC at both ends, read by launch-timer.c just before posix_spawn and, for the programs angel ' +
          "runs, by restart-child at the top of its main() (a static C program that notes its start in a log and exits 1; " +
          "angel's `--restart never` then ends with it, untimed); `node -e 0` ends at its waitpid (its start and its exit, " +
          'the least Node itself costs). stdout and stderr go to /dev/null. The ratios are against `node -e 0`.',
        'Where the launch goes in angel\'s process: one launch as bin/angel runs it, under `node --cpu-prof` (a sample every ' +
          `${PROFILE_INTERVAL_US} us), from the profile's ` +
          "start (once Node has booted) to its program's first instruction, its samples' self time by where the code lives (a " +
          `package, a file of angel's, Node's internals; angel's bundle is one file, its functions named after): ${profile}.`,
        `Where the launch goes in memory: ${faults}.`,
        'The parser\'s own floor (benchmarks/lib/cli-floor.ts): commander, the command line\'s chosen library, loaded as angel loads its ' +
          "bundle (through command.cjs: one CommonJS file compiled with its V8 code cache, built-ins loaded at first use, bin/angel's Node flags), defining as many options as `angel run` " +
          `and parsing one line, then exiting: ${commanderOver(commanderRow, node)} over \`node -e 0\`, of the ${TARGET_MS} ms the target leaves ` +
          "for everything angel does before the exec (its checks, the addon's load, the instance directory and control socket, the spawn).",
      ],
      headline: [
        {
          measure: "launch: bin/angel started -> the program's first instruction (CLOCK_MONOTONIC, the child's main)",
          angel: angelRow.error !== undefined ? `error: ${angelRow.error}` : msText(angel),
          floor: `\`node -e 0\` ${msText(node)} (start -> exit); the program alone ${msText(rows[0]?.summary?.median)}`,
          peers: '',
          target: angelRow.target ?? `error: ${angelRow.error ?? nodeRow.error}`,
        },
      ],
    };
  },
};
