// Cgroups a test makes for itself: children of the test process's own memory cgroup, which angel is then started
// in. A test creates, configures and removes only these (and angel only cgroups under them); no limit is ever
// written on the test's own cgroup or above it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { childCgroups, pidsIn } from '../../src/kernel/cgroup.js';
import { childCgroup, home, removeChildCgroup } from '../../support/cgroup.js';

export { home };

/** Why the v1 tests cannot run here, or false when they can. */
export const noV1 = home?.version === 1
  ? (existsSync(join(home.dir, 'cgroup.event_control')) ? false : `the v1 memory cgroup ${home.dir} has no cgroup.event_control`)
  : `needs the cgroup v1 memory hierarchy with this process in it; /proc/self/cgroup and mountinfo give ${home ? `v2 at ${home.dir}` : 'none'}`;

/** A fresh child of the test's own memory cgroup, with a limit when one is given. */
export const testCgroup = (limitBytes?: number): string => childCgroup('angel-test', limitBytes);

/** Whatever is still in it is killed; then it is removed. */
export const removeTestCgroup = removeChildCgroup;

/** The cgroups angel left under `dir`, and the processes in `dir` and below. */
export function leftIn(dir: string): { cgroups: string[]; pids: number[] } {
  const cgroups: string[] = [];
  const pids: number[] = [...pidsIn(dir)];
  const walk = (at: string, prefix: string): void => {
    for (const name of childCgroups(at)) {
      cgroups.push(`${prefix}${name}`);
      pids.push(...pidsIn(join(at, name)));
      walk(join(at, name), `${prefix}${name}/`);
    }
  };
  walk(dir, '');
  return { cgroups, pids };
}

/** Polls `condition` until it holds or `timeoutMs` passes (a cgroup is removed in the background). */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
