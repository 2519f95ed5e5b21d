// What the supervisor says of a generation, built from what the generation knows (its handle) and what the
// lifecycle decided (its reason, whether a readiness counts): the typed events of the public API.
import { restartLatencyMs } from '../core/backoff.js';
import type { ExitEvent, ExitReason, ReadyEvent, RestartEvent } from '../core/types.js';
import type { ChildExit } from '../kernel/spawn.js';
import type { GenerationHandle } from './generation.js';

/** Its `ready`, and for a generation started for a `reason` (every one after the first) its `restart`: from the
 * last current one's death (`diedAt`, angel's clock) to this one counting as started, less the backoff waited;
 * no gap when it overlapped. */
export function readyReports(generation: GenerationHandle, reason: ExitReason | null, overlapped: boolean, diedAt: number, delayMs: number): { ready: ReadyEvent; restart: RestartEvent | null } | null {
  const { readyAt } = generation;
  if (readyAt === undefined) return null;
  const ready = { pid: generation.pid, generation: generation.number, startLatencyMs: readyAt - generation.spawnAt };
  if (reason === null) return { ready, restart: null };
  return { ready, restart: { generation: generation.number, reason, delayMs, restartLatencyMs: restartLatencyMs(readyAt, diedAt, delayMs, overlapped) } };
}

export function exitReport(generation: GenerationHandle, reason: ExitReason, uptimeMs: number): ExitEvent {
  const exit = generation.exit as ChildExit;
  return {
    pid: generation.pid, generation: generation.number, code: exit.code, signal: exit.signal, coreDumped: exit.coreDumped,
    reason, uptimeMs, peakRssBytes: generation.peakRssBytes,
  };
}
