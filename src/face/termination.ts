// The termination summary (core/termination.ts), kept from the supervisor's events and written when angel
// shuts down: to --termination-log, or to /dev/termination-log where that file exists (Kubernetes makes it in
// every container, and shows what it holds as the reason the container ended). Written with the rights of the
// user angel acts for, never to a kernel file; a failure to write is a warning, never a different exit.
import { closeSync, constants, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { terminationMessage, type TerminationFacts } from '../core/termination.js';
import type { Supervisor } from '../driver/supervisor.js';
import { AT_FDCWD, openRegularFile, refusePseudoFilesystem } from '../kernel/safeopen.js';
import type { FsRights } from '../kernel/syscalls.js';

/** Where Kubernetes reads a container's termination message unless its spec says otherwise. */
const KUBERNETES_PATH = '/dev/termination-log';

export function writeTerminationLog(supervisor: Supervisor, path: string | null, rights: FsRights | null): void {
  let lastExit: TerminationFacts['lastExit'] = null;
  let lastReason = 'reload';
  const restartsByReason: Record<string, number> = {};
  supervisor.on('exit', (event) => {
    lastExit = event;
    lastReason = event.reason;
  });
  supervisor.on('restart', () => {
    restartsByReason[lastReason] = (restartsByReason[lastReason] ?? 0) + 1;
  });
  supervisor.once('shutdown', (shutdown) => {
    const cap = supervisor.cap;
    const text = terminationMessage({ shutdown, lastExit, cap: cap && { capBytes: cap.capBytes, ofBytes: cap.ofBytes, source: cap.source }, restartsByReason });
    // the default path only where Kubernetes made it; a path given is created
    const target = path ?? KUBERNETES_PATH;
    const flags = constants.O_WRONLY | constants.O_TRUNC | (path === null ? 0 : constants.O_CREAT);
    let fd: number;
    try {
      fd = openRegularFile(AT_FDCWD, resolve(target), flags, 0o644, target, false, rights).fd;
      refusePseudoFilesystem(fd, target);
    } catch (error) {
      if (path === null && (error as { code?: string }).code === 'ENOENT') return;
      supervisor.emit('warning', { message: `termination log ${target}: ${(error as Error).message}` });
      return;
    }
    try {
      writeSync(fd, text);
    } catch (error) {
      supervisor.emit('warning', { message: `termination log ${target}: ${(error as Error).message}` });
    } finally {
      closeSync(fd);
    }
  });
}
