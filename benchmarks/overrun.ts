// Overrun detection: the time from a child's RSS crossing the cap to its stop signal, as the child itself
// measures it (overrun-child.c), at two sampling intervals: the C sampler (overrun-floor.c), angel with
// --max-mem CAP --restart never (a fresh angel per sample) and PM2's max_memory_restart. The child starts
// growing at phases spread evenly over the period, the same set for the floor and angel, which alternate.
// Then angel's two ways of watching a cgroup's figure instead of the tree: --cgroup (the kernel's notice), and the
// container mode (--max-mem 90% in a cgroup with a limit, angel and the child in it, the figure read at a pace
// set by the headroom).
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capBytes } from '../src/core/memory.js';
import { memoryCgroupOf } from '../src/kernel/cgroup.js';
import { childCgroup, limitHits, oomKills, removeChildCgroup } from '../support/cgroup.js';
import { startAngel } from './lib/angel.js';
import { buildC, runC, sleep } from './lib/compile.js';
import { Pm2Daemon, pm2Version } from './lib/pm2.js';
import { summarize } from '../src/core/stats.js';
import { errorRow, fmt, msText, verdict, type Row } from './lib/table.js';
import type { Benchmark } from './lib/benchmark.js';
import { TARGETS } from './lib/targets.js';

const CAP = 64 * 2 ** 20;
const INTERVALS = [100, 20];
const CGROUP_TARGET_MS = TARGETS.cgroupOverrunMs;
const GAP_MS = TARGETS.overrunGapMs;
const SLACK_MS = TARGETS.overrunSlackMs;
/** The container's limit in the container mode's row, and the cap a share of it: the child grows 1 MiB a ms,
 * and the limit leaves it 100 MiB past the cap, more than the pace lets it grow unseen. */
const CONTAINER_LIMIT = 2 ** 30;
const CONTAINER_PERCENT = 90;
/** The child waits this long before its phase: a fresh angel is still busy starting (for tens of ms after the
 * child's exec here), and on 2 cores that delays the child by a varying amount, which would move its
 * crossing against the sampler's period and blur the comparison. */
const SETTLE_MS = 100;

function oneFigure(output: string, who: string): number {
  const value = Number(output.trim().split('\n')[0]);
  if (output.trim() === '' || Number.isNaN(value)) throw new Error(`${who}: the child printed no latency (${JSON.stringify(output.slice(0, 80))})`);
  return value;
}

function floorSample(child: string, interval: number, phaseUs: number): number {
  const output = runC(buildC('overrun-floor'), ['overrun', String(interval), String(CAP), child, String(CAP), String(phaseUs), String(SETTLE_MS)]);
  return oneFigure(output, 'overrun-floor');
}

interface AngelSetup {
  /** More flags before `--`. */
  extra?: readonly string[];
  /** --max-mem as given (the cap in bytes by default), and the cap in bytes the child crosses. */
  maxMem?: string;
  cap?: number;
  /** A cgroup to start angel in. */
  cgroup?: string;
}

async function angelSample(child: string, interval: number, phaseUs: number, setup: AngelSetup = {}): Promise<number> {
  const cap = setup.cap ?? CAP;
  const angel = startAngel(
    [...(setup.extra ?? []), '--max-mem', setup.maxMem ?? String(cap), '--sample-interval', String(interval), '--restart', 'never', '--kill-timeout', '2000',
      '--', child, String(cap), String(phaseUs), String(SETTLE_MS)],
    { quiet: true, ...(setup.cgroup && { cgroup: setup.cgroup }) },
  );
  const timeout = setTimeout(() => angel.process.kill('SIGKILL'), 20_000);
  const status = await angel.exited;
  clearTimeout(timeout);
  if (angel.count('overrun') !== 1) throw new Error(`angel exited ${status} with ${angel.count('overrun')} overrun events`);
  return oneFigure(angel.stdout.join('\n'), 'angel');
}

/** PM2 restarts the app on each overrun; every generation starts at a random phase and is one sample. */
async function pm2Samples(child: string, interval: number, count: number): Promise<number[]> {
  const out = join(tmpdir(), `angel-bench-overrun-pm2-${process.pid}.log`);
  rmSync(out, { force: true });
  const pm2 = new Pm2Daemon({ PM2_WORKER_INTERVAL: String(interval) });
  try {
    pm2.start({
      name: 'leak', script: child, args: [String(CAP)], interpreter: 'none', exec_mode: 'fork', autorestart: true,
      max_restarts: 1_000_000, min_uptime: 0, restart_delay: 0, max_memory_restart: `${CAP / 2 ** 20}M`, out_file: out, error_file: '/dev/null',
    });
    const deadline = Date.now() + 30_000 + count * 1000;
    for (;;) {
      let lines: number[] = [];
      try {
        lines = readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map(Number);
      } catch {}
      if (lines.length >= count) return lines.slice(0, count);
      if (Date.now() > deadline) throw new Error(`${lines.length} of ${count} overruns seen in time`);
      await sleep(100);
    }
  } finally {
    pm2.kill();
    rmSync(out, { force: true });
  }
}

/** angel --cgroup: the kernel's notice at the cap (a v1 threshold's eventfd, v2's memory.events), whatever the
 * sampling interval, which stays at 100 ms; the phases of the 100 ms rows. */
async function cgroupRow(child: string, count: number): Promise<Row> {
  const name = 'angel --cgroup (the kernel\'s notice at the cap; --sample-interval 100 as fallback)';
  const floor = 'C sampler every 20 ms (overrun-floor)';
  try {
    const samples: number[] = [];
    const cgroup = memoryCgroupOf();
    if (!cgroup) throw new Error('no memory cgroup mounted');
    const extra = ['--cgroup', '--env', `OVERRUN_CGROUP=${cgroup.mount}`];
    for (let k = 0; k < count; k++) samples.push(await angelSample(child, 100, phaseOf(k, count, 100), { extra }));
    const summary = summarize(samples);
    return { name, floor, summary, target: `median < ${CGROUP_TARGET_MS}: ${verdict(summary.median < CGROUP_TARGET_MS)}` };
  } catch (error) {
    return errorRow(name, error);
  }
}

/** The container mode: angel and the child in a cgroup of the benchmark's own with a limit, --max-mem N% of it;
 * the child crosses the cgroup's figure (angel's own memory in it). A sample in which the cgroup met its limit
 * is an error: the race was lost (the child's MAP_POPULATE would give up there silently, without an OOM kill). */
async function containerRow(child: string, count: number): Promise<Row> {
  const name = `angel --max-mem ${CONTAINER_PERCENT}% in a cgroup limited to ${CONTAINER_LIMIT / 2 ** 20} MiB, angel in it (the container mode)`;
  const floor = 'C sampler every 20 ms (overrun-floor)';
  try {
    const mount = memoryCgroupOf()?.mount;
    if (!mount) throw new Error('no memory cgroup mounted');
    const samples: number[] = [];
    for (let k = 0; k < count; k++) {
      const dir = childCgroup('angel-bench', CONTAINER_LIMIT);
      try {
        const setup = { extra: ['--env', `OVERRUN_CGROUP=${mount}`], maxMem: `${CONTAINER_PERCENT}%`, cap: capBytes({ percent: CONTAINER_PERCENT }, CONTAINER_LIMIT), cgroup: dir };
        samples.push(await angelSample(child, 100, phaseOf(k, count, 100), setup));
        if (oomKills(dir) > 0 || limitHits(dir) > 0) throw new Error(`the cgroup met its limit (sample ${k + 1}: ${oomKills(dir)} OOM kills)`);
      } finally {
        await removeChildCgroup(dir);
      }
    }
    return { name, floor, summary: summarize(samples) };
  } catch (error) {
    return errorRow(name, error);
  }
}

/** The k-th of `count` phases spread evenly over one period of `interval` ms, in µs, in an order that alternates
 * early and late ones. */
const phaseOf = (k: number, count: number, interval: number): number => Math.round(((((k * 7) % count) + 0.5) / count) * interval * 1000);

export const overrunBenchmark: Benchmark = {
  name: 'overrun',
  async run({ quick }) {
    const count = quick ? 8 : 20;
    const child = buildC('overrun-child');
    const rows: Row[] = [];
    const notes: string[] = [];
    for (const interval of INTERVALS) {
      // phases spread evenly over one period, in an order that alternates early and late ones
      const phases = Array.from({ length: count }, (_, k) => phaseOf(k, count, interval));
      const floor: number[] = [];
      const angel: number[] = [];
      let floorError: unknown, angelError: unknown;
      for (const [k, phase] of phases.entries()) {
        for (const who of k % 2 === 0 ? ['floor', 'angel'] : ['angel', 'floor']) {
          try {
            if (who === 'floor' && floorError === undefined) floor.push(floorSample(child, interval, phase));
            if (who === 'angel' && angelError === undefined) angel.push(await angelSample(child, interval, phase));
          } catch (error) {
            if (who === 'floor') floorError = error;
            else angelError = error;
          }
        }
      }
      let pm2: number[] | Error;
      try {
        pm2 = await pm2Samples(child, interval, count);
      } catch (error) {
        pm2 = error as Error;
      }

      const floorName = `C sampler every ${interval} ms (overrun-floor)`;
      const angelName = `angel --sample-interval ${interval}`;
      const pm2Name = `PM2 ${pm2Version()} max_memory_restart, PM2_WORKER_INTERVAL=${interval}`;
      rows.push(floorError !== undefined ? errorRow(floorName, floorError) : { name: floorName, floor: floorName, summary: summarize(floor) });
      if (angelError !== undefined) rows.push(errorRow(angelName, angelError));
      else {
        const mine = summarize(angel);
        const gap = mine.median - summarize(floor).median;
        const meanGap = mine.mean - summarize(floor).mean;
        const signed = (value: number): string => `${value >= 0 ? '+' : ''}${fmt(value)}`;
        const gapText = floorError !== undefined
          ? 'no floor'
          : `median ${signed(gap)} ms (mean ${signed(meanGap)}) <= ${GAP_MS}: ${verdict(gap <= GAP_MS)}`;
        const p99Met = mine.p99 <= interval + SLACK_MS;
        rows.push({ name: angelName, floor: floorName, summary: mine, target: `${gapText}; p99 <= ${interval + SLACK_MS}: ${verdict(p99Met)}` });
      }
      rows.push(pm2 instanceof Error ? errorRow(pm2Name, pm2) : { name: pm2Name, floor: floorName, summary: summarize(pm2) });
    }
    rows.push(await cgroupRow(child, count));
    rows.push(await containerRow(child, count));
    notes.push(
      `Targets (benchmarks/lib/targets.ts): angel's median within ${GAP_MS} ms of the C sampler at the same interval, and its p99 within one ` +
        `interval + ${SLACK_MS} ms. The child (overrun-child.c) grows 2 MiB every 2 ms past a ${CAP / 2 ** 20} MiB cap, notes ` +
        `CLOCK_MONOTONIC when its own RSS first passes the cap and prints the ms until its stop signal; it starts growing ${SETTLE_MS} ms ` +
        'after its start plus its phase, so that a fresh angel has finished starting. angel runs as ' +
        '`angel --max-mem 64M --sample-interval N --restart never -- overrun-child ...`, a fresh angel per sample, so ' +
        "every sample includes angel's first sampling period; the C sampler and angel alternate, over the same phases " +
        'spread evenly across the period, so both medians sit near half an interval and their difference is the overhead ' +
        '(the mean difference, in brackets, moves less from run to run). ' +
        "PM2 checks the app's own RSS (not its tree) every PM2_WORKER_INTERVAL ms (default 30 s), " +
        'with pidusage, and stops it with SIGINT; its generations start at random phases. ' +
        `angel --cgroup runs the child in a cgroup of its own and is told by the kernel when its usage passes the cap (on ` +
        'cgroup v1 a threshold on memory.usage_in_bytes through cgroup.event_control and an eventfd, checked by the kernel ' +
        'every 128 pages charged per CPU; on v2 memory.high and memory.events), then reads the working set; its target ' +
        `is a median under ${CGROUP_TARGET_MS} ms; its ratio is against the 20 ms sampler. Its child counts from its ` +
        "cgroup's figure passing the cap (OVERRUN_CGROUP: the usage less the clean page cache, the figure angel reads; with a 1.2 s " +
        "wait before the growth, as below): the cgroup does not count the shared file pages the RSS does (libc's, " +
        'charged to whoever read them first), so it passes the cap a step later than the RSS. ' +
        `In the container mode angel runs in a cgroup of the benchmark's own limited to ${CONTAINER_LIMIT / 2 ** 20} MiB, with ` +
        `\`--max-mem ${CONTAINER_PERCENT}%\`, and the child with it; the child counts from that cgroup's figure (angel's own memory in it) ` +
        'passing the cap, after growing to 6 MiB under it once angel has started and sitting there 1.2 s (a program near its ' +
        'cap, not one that has just jumped to it: the race table holds angel to steady leaks); angel reads the figure at a pace set by ' +
        'the headroom (the time it would take to reach the cap at twice the growth seen, at least 128 MiB/s; from 10 ms near ' +
        'the cap to a second). Its ratio is against the 20 ms sampler; it has no target of its own (the race against the ' +
        "kernel's OOM kill is the race table's). Every clock here is the child's: CLOCK_MONOTONIC from its crossing to its " +
        'stop signal\'s handler.',
    );
    const byName = (start: string): Row | undefined => rows.find((row) => row.name.startsWith(start));
    const median = (row: Row | undefined): string => (row === undefined ? '-' : row.error !== undefined ? `error: ${row.error}` : msText(row.summary?.median));
    const tree = byName('angel --sample-interval 100');
    const cgroupRowFound = byName('angel --cgroup');
    const container = byName(`angel --max-mem ${CONTAINER_PERCENT}%`);
    return {
      title: `overrun detection: the figure crosses the cap -> stop signal (the child's clock), ${count} samples per row`,
      unit: 'ms',
      rows,
      notes,
      headline: [
        {
          measure: "overrun: RSS crosses the cap -> the stop signal, the tree sampled every 100 ms (the child's clock)",
          angel: median(tree),
          floor: `${median(byName('C sampler every 100 ms'))}, the same sampler in C`,
          peers: `PM2 ${median(byName('PM2'))} told to check every 100 ms`,
          target: tree?.target ?? `error: ${tree?.error}`,
        },
        {
          measure: "overrun with --cgroup: the cgroup's figure crosses the cap -> the stop signal (the child's clock)",
          angel: `${median(cgroupRowFound)} (the kernel's notice)`,
          floor: `${median(byName('C sampler every 20 ms'))}, the C sampler every 20 ms`,
          peers: '',
          target: cgroupRowFound?.target ?? `error: ${cgroupRowFound?.error}`,
        },
        {
          measure: `overrun in the container mode: the cgroup's figure, angel in it, crosses ${CONTAINER_PERCENT}% of its limit -> the stop signal (the child's clock)`,
          angel: median(container),
          floor: `${median(byName('C sampler every 20 ms'))}, the C sampler every 20 ms`,
          peers: '',
          target: 'none (the race table holds it to the kernel)',
        },
      ],
    };
  },
};
