// Memory cgroups a test or a benchmark makes for itself: children of its own process's memory cgroup, which angel
// is then started in (a shell writes itself into cgroup.procs, then execs angel). Only these are created,
// limited and removed; no limit is ever written on the caller's own cgroup or above it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAndRemove, memoryCgroupOf } from '../src/kernel/cgroup.js';

export const home = memoryCgroupOf();

let made = 0;

/** A fresh child of the caller's own memory cgroup, named `<prefix>.<pid>.<n>`, with a limit when one is given. */
export function childCgroup(prefix: string, limitBytes?: number): string {
  if (!home) throw new Error('no memory cgroup mounted');
  const dir = join(home.dir, `${prefix}.${process.pid}.${made++}`);
  mkdirSync(dir);
  if (limitBytes !== undefined) writeFileSync(join(dir, home.version === 1 ? 'memory.limit_in_bytes' : 'memory.max'), String(limitBytes));
  return dir;
}

/** Whatever is still in it is killed; then it is removed. */
export async function removeChildCgroup(dir: string): Promise<void> {
  await killAndRemove(home?.version ?? 1, dir);
}

/** The OOM kills the kernel made in the cgroup so far (v1 memory.oom_control, v2 memory.events). */
export function oomKills(dir: string): number {
  const text = readFileSync(join(dir, home?.version === 2 ? 'memory.events' : 'memory.oom_control'), 'latin1');
  return Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0);
}

/** The times the cgroup's usage met its limit so far (v1 memory.failcnt, v2 memory.events' max): where a charge
 * meets the limit without a fault to OOM-kill in (a MAP_POPULATE gives up silently), only this tells. */
export function limitHits(dir: string): number {
  if (home?.version === 2) return Number(/^max (\d+)$/m.exec(readFileSync(join(dir, 'memory.events'), 'latin1'))?.[1] ?? 0);
  return Number(readFileSync(join(dir, 'memory.failcnt'), 'latin1').trim());
}

/** argv that starts `command` in the cgroup `dir` (its first process writes itself into cgroup.procs, then execs). */
export const inCgroup = (dir: string, command: readonly string[]): string[] => ['/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, ...command];
