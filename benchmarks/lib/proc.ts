// A process's CPU time and resident memory, read from outside through /proc (proc(5)), so the floor, angel
// and a peer are measured by the same ruler.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { statFields } from '../../src/kernel/proctree.js';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (Node has no sysconf). */
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** utime + stime of every thread of the process, living or ended (not its children's), in ms. */
export function cpuMs(pid: number): number {
  const fields = statFields(pid);
  if (fields === null) throw new Error(`/proc/${pid}/stat: the process is gone`);
  // utime is field 14, stime 15
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

export const CPU_RESOLUTION_MS = 1000 / CLK_TCK;

/** VmRSS, in MB (MiB). */
export function rssMb(pid: number): number {
  const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib ?? NaN) / 1024;
}

/** Time on a CPU of all the process's live threads, in ms, from /proc/<pid>/task/<tid>/schedstat (ns):
 * finer than stat's ticks, for per-second samples (a thread that ended takes its time with it). */
export function threadsCpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {} // ended meanwhile
  }
  return ns / 1e6;
}
