// The cost of watching: CPU and RSS of the watcher over a 20-process tree sampled every 100 ms.
import { readFileSync } from 'node:fs';
import { startAngel } from './lib/angel.js';
import { buildC, runC } from './lib/compile.js';
import type { Table } from './lib/table.js';
import type { Benchmark } from './run.js';

/** Time on a CPU in ms, from schedstat's nanoseconds (stat's utime/stime tick only every 10 ms). */
function cpuMs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
}

export const watchBenchmark: Benchmark = {
  name: 'watch',
  async run({ quick }) {
    const seconds = quick ? 10 : 30;
    const tree = buildC('tree');
    const floorOut = runC(buildC('tree-sampler'), ['watch', '100', String(10 * 2 ** 30), String(seconds), tree, '20']);
    const [, floorCpu, floorRss] = /cpu_ms (\S+) rss_kb (\d+)/.exec(floorOut) ?? [];

    const angel = startAngel(['--max-mem', '10G', '--sample-interval', '100', '--log-level', 'info', '--', tree, '20']);
    await angel.until(() => angel.events.some((event) => event.event === 'ready'), 10_000);
    const pid = angel.process.pid as number;
    // let the tree form and the first samples run, then measure a steady window
    await new Promise((resolve) => setTimeout(resolve, 500));
    const cpuBefore = cpuMs(pid);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const cpu = cpuMs(pid) - cpuBefore;
    const rss = rssMb(pid);
    angel.process.kill('SIGTERM');
    await angel.exited;
    const scale = 30 / seconds;
    return {
      title: `cost of watching a 20-process tree at 100 ms for ${seconds} s`,
      unit: 'ms',
      rows: [
        { name: 'C sampler (floor)', values: { 'CPU ms per 30 s': (Number(floorCpu) * scale).toFixed(0), 'RSS MB': (Number(floorRss) / 1024).toFixed(1) } },
        { name: 'angel', values: { 'CPU ms per 30 s': (cpu * scale).toFixed(0), 'RSS MB': rss.toFixed(1) } },
      ],
      notes: [`Targets: under 300 ms CPU per 30 s (${(cpu * scale).toFixed(0)} ms: ${cpu * scale < 300 ? 'met' : 'NOT met'}), RSS under 60 MB (${rss.toFixed(1)} MB: ${rss < 60 ? 'met' : 'NOT met'}). angel's CPU from /proc/<pid>/schedstat (ns), the floor's from getrusage. DESIGN.md measured PM2 at 100 ms: 3.7 s CPU, 74 MB.`],
    };
  },
};
