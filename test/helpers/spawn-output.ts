// Runs a program through spawnChild with its stdout in a temp file, and reads it back after exit.
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnChild, type ChildExit, type SpawnOptions } from '../../src/spawn.js';
import { processState } from '../../src/proctree.js';

const scratch = mkdtempSync(join(tmpdir(), 'angel-spawn-'));
let counter = 0;

export async function runCaptured(options: SpawnOptions): Promise<{ exit: ChildExit; output: string; pid: number }> {
  const file = join(scratch, `out-${counter++}`);
  const fd = openSync(file, 'w');
  try {
    const child = spawnChild({ ...options, fds: [0, fd, 2, ...(options.fds?.slice(3) ?? [])] });
    const exit = await child.exited;
    return { exit, output: readFileSync(file, 'utf8'), pid: child.pid };
  } finally {
    closeSync(fd);
  }
}

export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

export function ownFds(): Map<number, string> {
  const fds = new Map<number, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      fds.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {}
  }
  return fds;
}

/** This process's children that are zombies (exited, not reaped). */
export function zombieChildren(): number[] {
  const zombies: number[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    const list = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim();
    for (const pid of list ? list.split(' ').map(Number) : []) if (processState(pid) === 'Z') zombies.push(pid);
  }
  return zombies;
}

export function limitsText(pid: number | 'self'): string {
  return readFileSync(`/proc/${pid}/limits`, 'utf8');
}

export { scratch };
