// Run by cgroup-v2.test.ts inside a private mount namespace where cgroup2 is mounted at argv[2]: a child spawned with
// clone3(CLONE_INTO_CGROUP) into a cgroup this probe makes under its own, a daemon it starts there, and the
// whole cgroup killed (cgroup.kill) and removed. Prints one JSON line of what it saw.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAndRemove, openDir, parseMemoryCgroup } from '../../src/kernel/cgroup.js';
import { spawnChild } from '../../src/kernel/spawn.js';

const mount = process.argv[2] ?? '';
// this probe's own v2 cgroup, seen through the new mount (the v1 memory hierarchy is ignored: hidden here)
const own = parseMemoryCgroup(readFileSync('/proc/self/cgroup', 'utf8').split('\n').filter((line) => line.startsWith('0::')).join('\n'),
  `1 1 0:1 / ${mount} rw - cgroup2 none rw`);
if (!own) throw new Error('no v2 cgroup');
const test = join(own.dir, `angel-test.${process.pid}.v2`);
const gen = join(test, 'gen.0');
mkdirSync(gen, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'angel-v2-'));
const out = join(scratch, 'out');
const dirFd = openDir(gen);
const child = spawnChild({ program: '/bin/sh', args: ['-c', `{ cat /proc/self/cgroup; setsid sleep 1000 & echo daemon $!; } > ${out}; exec sleep 1000`], cgroup: { dirFd } });
const deadline = Date.now() + 5000;
while (!/daemon \d+/.test(existsSync(out) ? readFileSync(out, 'utf8') : '') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
const text = readFileSync(out, 'utf8');
const daemon = Number(/daemon (\d+)/.exec(text)?.[1]);
const daemonCgroup = readFileSync(`/proc/${daemon}/cgroup`, 'utf8').split('\n').find((line) => line.startsWith('0::'));
const removed = await killAndRemove(2, test);
const exit = await child.exited;
const alive = (pid: number): boolean => {
  try {
    return !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
await new Promise((resolve) => setTimeout(resolve, 0));
rmSync(scratch, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({
  cgroup: gen.slice(mount.length), childSaw: text.split('\n').find((line) => line.startsWith('0::')), daemonCgroup, removed,
  testGone: !existsSync(test), exitSignal: exit.signal, daemonAlive: alive(daemon),
})}\n`);
