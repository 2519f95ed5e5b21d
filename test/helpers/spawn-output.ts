// Runs a program through spawnChild with its stdout in a temp file, and reads it back after exit; reads this
// process's fds and children from /proc.
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnChild, type ChildExit, type PreparedSpawn, type SpawnOptions } from '../../src/kernel/spawn.js';
import { processState } from '../../src/kernel/proctree.js';
import { reachable } from './reachable.js';

export const scratch = mkdtempSync(join(tmpdir(), 'angel-spawn-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;

/** A fresh path in the scratch directory. */
export function scratchPath(name: string): string {
  return join(scratch, `${name}-${counter++}`);
}

/** Runs the program with fd 1 on a temp file (fds[3..] mapped as given) and returns what it wrote. */
export async function runCaptured(options: SpawnOptions, prepared?: PreparedSpawn): Promise<{ exit: ChildExit; output: string; pid: number }> {
  const file = scratchPath('out');
  const fd = openSync(file, 'w');
  try {
    const captured = { ...options, fds: [0, fd, 2, ...(options.fds?.slice(3) ?? [])] };
    const child = prepared ? prepared.start(captured) : spawnChild(captured);
    const exit = await child.exited;
    return { exit, output: readFileSync(file, 'utf8'), pid: child.pid };
  } finally {
    closeSync(fd);
  }
}

/** The compiled spawn module, by absolute path, for scripts run in another Node process. */
export const SPAWN_MODULE = fileURLToPath(new URL('../../src/kernel/spawn.js', import.meta.url));

// Shared by the scripts below: this process's zombie children and whether an fd is close-on-exec (fdinfo's
// flags are octal, O_CLOEXEC is 02000000: proc(5)).
const SCRIPT_PRELUDE = `
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
const childPids = () => readdirSync('/proc/self/task')
  .flatMap((tid) => readFileSync('/proc/self/task/' + tid + '/children', 'utf8').trim().split(' ').filter(Boolean))
  .map(Number).sort((a, b) => a - b);
const zombieChildren = () => childPids().filter((pid) => { try { const s = readFileSync('/proc/' + pid + '/stat', 'utf8'); return s.slice(s.lastIndexOf(')') + 2)[0] === 'Z'; } catch { return false; } });
const closeOnExec = (fd) => (parseInt(/flags:\\s+(\\d+)/.exec(readFileSync('/proc/self/fdinfo/' + fd, 'utf8'))[1], 8) & 0o2000000) !== 0;
`;

/**
 * Runs an ES module body in a fresh Node process started by spawnChild (so `options` can drop privileges or
 * map fds), with `spawnChild`, `childPids()`, `zombieChildren()`, `closeOnExec(fd)` and node:fs's open/read/readdir/close in scope; returns its JSON line.
 */
export async function runNodeScript(body: string, options: Omit<SpawnOptions, 'program' | 'args'> = {}): Promise<unknown> {
  // as another user, from a copy that user can reach
  const spawnModule = options.uid === undefined ? SPAWN_MODULE : reachable('dist/src/kernel/spawn.js');
  const source = `import { spawnChild } from ${JSON.stringify(spawnModule)};\n${SCRIPT_PRELUDE}\n${body}`;
  const { exit, output } = await runCaptured({ ...options, program: process.execPath, args: ['--input-type=module', '-e', source] });
  if (exit.code !== 0) throw new Error(`node script failed (${JSON.stringify(exit)}): ${output}`);
  return JSON.parse(output);
}

export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** This process's children (of every thread), live or zombie, in pid order. */
export function childPids(): number[] {
  const pids: number[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    let list: string;
    try {
      list = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim();
    } catch {
      continue; // a thread that ended between the two reads
    }
    if (list) pids.push(...list.split(' ').map(Number));
  }
  return pids.sort((a, b) => a - b);
}

/** This process's children that are zombies: exited, not reaped. */
export function zombieChildren(): number[] {
  return childPids().filter((pid) => processState(pid) === 'Z');
}

export function limitsText(pid: number | 'self'): string {
  return readFileSync(`/proc/${pid}/limits`, 'utf8');
}

/** The fields of /proc/<pid>/stat after the command name (state is [0], pgrp [2], session [3]). */
export function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Polls until the condition holds, every few ms, failing at a deadline: for facts no event announces. */
export async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
