// Reads process state from /proc. On these machines PID 1 reaps orphans lazily, so a dead orphan lingers
// as a zombie and kill(pid, 0) still succeeds on it: a zombie (Z) counts as dead.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { processState } from '../../src/kernel/proctree.js';
import { fixture } from './events.js';

export function isAlive(pid: number): boolean {
  const state = processState(pid);
  return state !== null && state !== 'Z' && state !== 'X';
}

/** Waits until the process is gone: a SIGKILL is sent at once, but a process takes a moment to die, more so
 * on a loaded machine. */
export async function gone(pid: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

/** An orphan of the environ-hider fixture, started with `env`, its environment reading as empty (as a process's
 * does in the middle of an execve) once this resolves; show() gives it back (SIGUSR1) and resolves once it is. */
export async function hiddenEnvironment(env: NodeJS.ProcessEnv): Promise<{ pid: number; show(): Promise<void> }> {
  const hider = spawn(fixture('environ-hider'), [], { env });
  const lines = createInterface({ input: hider.stdout })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string> => String((await lines.next()).value);
  const [pid, hidden] = (await nextLine()).split(' ');
  assert.equal(hidden, 'hidden', 'the fixture hides its environment (prctl PR_SET_MM_MAP)');
  return {
    pid: Number(pid),
    async show() {
      process.kill(Number(pid), 'SIGUSR1');
      assert.equal(await nextLine(), 'shown');
    },
  };
}
