// Reads process state from /proc. On these machines PID 1 reaps orphans lazily, so a dead orphan lingers
// as a zombie and kill(pid, 0) still succeeds on it: a zombie (Z) counts as dead.
import { processState } from '../../src/proctree.js';

export function isAlive(pid: number): boolean {
  const state = processState(pid);
  return state !== null && state !== 'Z' && state !== 'X';
}
