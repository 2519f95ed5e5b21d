// Reads process state from /proc. On these machines PID 1 reaps orphans lazily, so a dead orphan lingers
// as a zombie and kill(pid, 0) still succeeds on it: a zombie (Z) counts as dead.
import { processState } from '../../src/kernel/proctree.js';

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
