// A process's CPU time and resident memory, read from outside through /proc (proc(5)), so the floor, angel
// and a peer are measured by the same ruler.
import { readdirSync, readFileSync } from 'node:fs';

/** VmRSS, in MB (MiB). */
export function rssMb(pid: number): number {
  const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib ?? NaN) / 1024;
}

/** Time on a CPU of all the process's live threads, in ms, from /proc/<pid>/task/<tid>/schedstat (ns):
 * finer than stat's ticks, for per-second samples (a thread that ended takes its time with it). With
 * `mainOnly`, of its main thread alone (a JavaScript program's, whose time a CPU profile sees). */
export function threadsCpuMs(pid: number, mainOnly = false): number {
  let ns = 0;
  for (const tid of mainOnly ? [String(pid)] : readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {} // ended meanwhile
  }
  return ns / 1e6;
}

/** What the resident memory is: RssAnon (the heaps, stacks) and RssFile (mapped files: code, the addon), in MB. */
export function rssParts(pid: number): { anonMb: number; fileMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
  return { anonMb: mb('RssAnon'), fileMb: mb('RssFile') };
}

/** The number of the process's threads (Threads: of its status). */
export function threadCount(pid: number): number {
  return Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

/** The times the process's live threads went to sleep of their own accord and were woken again: the sum of their
 * voluntary_ctxt_switches (/proc/<pid>/task/<tid>/status). */
export function wakeUps(pid: number): number {
  let count = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      count += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {} // ended meanwhile
  }
  return count;
}
