// One generation of the child: its process, its sampler and readiness probe, and how angel stops it.
// Mechanics only; when to stop and what an exit means is the supervisor's (and the lifecycle's) call.
import { treePids } from '../kernel/proctree.js';
import type { ReadyProbe } from '../kernel/ready.js';
import type { Sampler } from '../kernel/sampler.js';
import { signalNumber } from '../core/signames.js';
import type { ChildExit, ChildProcess } from '../kernel/spawn.js';
import type { ExitReason } from '../core/types.js';

export interface Generation {
  readonly child: ChildProcess;
  readonly number: number;
  readonly execAt: number;
  sampler: Sampler | null;
  samplesOver: number;
  probe: ReadyProbe | null;
  readyTimer: NodeJS.Timeout | null;
  /** Set when angel stops this generation: the tree as seen then, and the kill deadline. */
  stopPids: readonly number[];
  deadline: NodeJS.Timeout | null;
  /** Set when a newer generation replaced this one; its end is then reported with this reason. */
  retiring: ExitReason | null;
}

/** The shell's convention: the code, or 128 + the signal number. */
export function statusOf(exit: ChildExit): number {
  return exit.code ?? 128 + (exit.signal ? signalNumber(exit.signal) : 0);
}

/** Signals the generation's process group and every process of its tree (some may have left the group). */
export function signalTree(generation: Generation, signal: NodeJS.Signals): void {
  const { child } = generation;
  const number = signalNumber(signal);
  child.signalGroup(number);
  const live = child.exit ? [] : treePids(child.pid).slice(1);
  for (const pid of new Set([...generation.stopPids, ...live])) {
    try {
      process.kill(pid, number);
    } catch {
      // ESRCH: it ended on its own meanwhile
    }
  }
}

/** The stop signal, then SIGCONT (as systemd, runit and s6 do, so a stopped process can act on it), and
 * `atDeadline` after the kill timeout. */
export function stopGeneration(generation: Generation, signal: NodeJS.Signals, killTimeoutMs: number, atDeadline: () => void): void {
  if (generation.child.exit) return;
  generation.stopPids = treePids(generation.child.pid).slice(1);
  signalTree(generation, signal);
  if (signal !== 'SIGKILL' && signal !== 'SIGCONT') signalTree(generation, 'SIGCONT');
  if (generation.deadline) clearTimeout(generation.deadline);
  generation.deadline = setTimeout(atDeadline, killTimeoutMs);
}
