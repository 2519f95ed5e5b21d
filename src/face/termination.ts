// The termination summary (core/termination.ts), kept from the supervisor's events and written when angel
// shuts down: to --termination-log, or to /dev/termination-log where that file exists (Kubernetes makes it in
// every container, and shows what it holds as the reason the container ended). Written with the rights of the
// user angel acts for, never to a kernel file; a failure to write is a warning, never a different exit.
import { terminationMessage, type TerminationFacts } from '../core/termination.js';
import { writeReport, type FsRights } from '../driver/outside.js';
import type { Supervisor } from '../driver/supervisor.js';

/** Where Kubernetes reads a container's termination message unless its spec says otherwise. */
const KUBERNETES_PATH = '/dev/termination-log';

export function writeTerminationLog(supervisor: Supervisor, path: string | null, rights: FsRights | null): void {
  let lastExit: TerminationFacts['lastExit'] = null;
  const restartsByReason: Record<string, number> = {};
  supervisor.on('exit', (event) => {
    lastExit = event;
  });
  supervisor.on('restart', (event) => {
    restartsByReason[event.reason] = (restartsByReason[event.reason] ?? 0) + 1;
  });
  supervisor.once('shutdown', (shutdown) => {
    const cap = supervisor.cap;
    const text = terminationMessage({ shutdown, lastExit, cap: cap && { capBytes: cap.capBytes, ofBytes: cap.ofBytes, source: cap.source }, restartsByReason });
    // the default path only where Kubernetes made it; a path given is created
    const target = path ?? KUBERNETES_PATH;
    try {
      writeReport(target, text, path !== null, rights);
    } catch (error) {
      if (path === null && (error as { code?: string }).code === 'ENOENT') return;
      supervisor.emit('warning', { message: `termination log ${target}: ${(error as Error).message}` });
    }
  });
}
