// The control socket `angel status <pid>` reads: a unix stream socket at <runtime>/<pid>.sock (kernel/runtime.ts:
// /run/angel for root, $XDG_RUNTIME_DIR/angel or /tmp/angel-<uid> for others), mode 0600, so only angel's
// own user (and root) can ask. A connection gets the status report as one line of JSON and is closed; the
// socket reads nothing, so there is nothing to send it but a connect.
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { Supervisor } from '../driver/supervisor.js';
import { ensureRuntimeDirectory, runtimeDirectory } from '../kernel/runtime.js';
import { bindUnix, removeBound, type BoundPath } from '../kernel/sockets.js';
import type { StatusBoard } from './board.js';

/** Where the control socket of the angel with this pid, running as this uid in this environment, is. */
export const controlPath = (directory: string, pid: number): string => join(directory, `${pid}.sock`);

/** Opens the control socket; a failure is a warning (angel runs on, `angel status <pid>` cannot reach it). */
export function openControlSocket(supervisor: Supervisor, board: StatusBoard): void {
  // as PID 1 of a PID namespace the pid names nothing outside it, and every such angel is pid 1: their sockets
  // would take each other's place. `angel status --metrics` reaches them.
  if (process.pid === 1) return;
  const uid = process.getuid?.() ?? 0;
  let path: string;
  let socket: { fd: number; bound: BoundPath };
  try {
    path = controlPath(ensureRuntimeDirectory(runtimeDirectory(uid), uid), process.pid);
    // an earlier angel of this pid may have left its socket: bound afresh, mode 0600 from the umask at bind
    socket = bindUnix(path, 0o600, 'control socket', null);
  } catch (error) {
    supervisor.emit('warning', { message: `control socket: ${(error as Error).message}; angel status ${process.pid} will not reach this angel` });
    return;
  }
  const server: Server = createServer((connection) => {
    connection.on('error', () => connection.destroy());
    connection.end(`${JSON.stringify(board.snapshot())}\n`);
  });
  server.on('error', (error) => supervisor.emit('warning', { message: `control socket ${path}: ${error.message}` }));
  server.listen({ fd: socket.fd }, () => server.unref());
  supervisor.on('shutdown', () => {
    server.close();
    removeBound(socket.bound);
  });
}
