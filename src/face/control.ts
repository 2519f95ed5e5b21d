// The control socket `angel status <pid>` reads: a unix stream socket in this angel's runtime instance
// (kernel/runtime.ts: <base>/angel.<id>/control.sock, unique across PID namespaces), mode 0600, so only angel's
// own user (and root) can ask. `angel status` finds it through /proc from the pid. A connection gets the
// status report as one line of JSON and is closed; the socket reads nothing, so there is nothing to send it
// but a connect.
import { closeSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { Supervisor } from '../driver/supervisor.js';
import { Instance } from '../kernel/runtime.js';
import { bindUnix, removeBound, type BoundPath } from '../kernel/sockets.js';
import type { StatusBoard } from './board.js';

/** Opens the control socket; a failure is a warning (angel runs on, `angel status <pid>` cannot reach it). */
export function openControlSocket(supervisor: Supervisor, board: StatusBoard): void {
  let instance: Instance;
  let socket: { fd: number; bound: BoundPath };
  try {
    instance = Instance.acquire();
  } catch (error) {
    supervisor.emit('warning', { message: `control socket: ${(error as Error).message}; angel status ${process.pid} will not reach this angel` });
    return;
  }
  const path = instance.controlPath;
  try {
    // mode 0600 from the umask at bind
    socket = bindUnix(path, 0o600, 'control socket', null);
  } catch (error) {
    instance.release();
    supervisor.emit('warning', { message: `control socket ${path}: ${(error as Error).message}; angel status ${process.pid} will not reach this angel` });
    return;
  }
  // The socket listens from its bind, and a connection waits in its backlog until it is accepted: Node's server
  // (and node:net, which a launch would load first) comes a turn later, after the first generation's spawn.
  let server: Server | null = null;
  const serving = setImmediate(() => {
    server = createServer((connection) => {
      connection.on('error', () => connection.destroy());
      connection.end(`${JSON.stringify(board.snapshot())}\n`);
    });
    server.on('error', (error) => supervisor.emit('warning', { message: `control socket ${path}: ${error.message}` }));
    server.listen({ fd: socket.fd }, () => server?.unref());
  });
  supervisor.on('shutdown', () => {
    clearImmediate(serving);
    if (server === null) closeSync(socket.fd);
    else server.close();
    removeBound(socket.bound);
    instance.release();
  });
}
