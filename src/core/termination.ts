// Pure: the few lines angel leaves where Kubernetes looks when a container ends (its terminationMessagePath,
// /dev/termination-log, shown by `kubectl describe pod` as the last state's message): how angel ended, how
// the last generation ended, the cap it was held to and the restarts before. At most 4096 bytes, the kubelet's
// own bound.
import { oneLine } from './errors.js';
import type { CapEvent, ExitEvent, ShutdownEvent } from './types.js';

export interface TerminationFacts {
  shutdown: ShutdownEvent;
  lastExit: ExitEvent | null;
  cap: Omit<CapEvent, 'previousBytes'> | null;
  restartsByReason: Readonly<Record<string, number>>;
}

const MAX_BYTES = 4096;
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export function terminationMessage(facts: TerminationFacts): string {
  const { shutdown, lastExit, cap } = facts;
  const lines = [`angel exited ${shutdown.status} (${shutdown.cause})`];
  if (lastExit !== null) {
    const how = lastExit.signal ?? `code ${lastExit.code}`;
    const peak = lastExit.peakRssBytes === null ? '' : `, peak ${mib(lastExit.peakRssBytes)}`;
    lines.push(`last generation ${lastExit.generation}: ${lastExit.reason} (${how}) after ${seconds(lastExit.uptimeMs)}${peak}`);
  }
  if (cap !== null) {
    const of = cap.ofBytes === null ? '' : ` of ${cap.source === 'machine' ? 'the machine\'s' : 'the cgroup\'s'} ${mib(cap.ofBytes)}`;
    lines.push(`cap ${mib(cap.capBytes)}${of}`);
  }
  const restarts = Object.entries(facts.restartsByReason).filter(([, count]) => count > 0);
  const total = restarts.reduce((sum, [, count]) => sum + count, 0);
  lines.push(`restarts ${total}${total === 0 ? '' : ` (${restarts.map(([reason, count]) => `${reason} ${count}`).join(', ')})`}`);
  const text = `${lines.map(oneLine).join('\n')}\n`;
  return Buffer.byteLength(text) <= MAX_BYTES ? text : `${Buffer.from(text).subarray(0, MAX_BYTES - 4).toString('utf8').replace(/\uFFFD$/, '')}…\n`;
}
