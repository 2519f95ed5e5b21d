// The control socket `angel status <pid>` reads: a unix stream socket in this angel's runtime instance
// (kernel/runtime.ts: <base>/angel.<id>/control.sock, unique across PID namespaces), mode 0600, so only angel's
// own user (and root) can ask. `angel status` finds it through /proc from the pid. A connection gets the
// status report as one line of JSON and is closed; the socket reads nothing, so there is nothing to send it
// but a connect.
import { createServer, type Server } from 'node:net';
import { listenOn } from '../driver/outside.js';
import type { Supervisor } from '../driver/supervisor.js';
import type { StatusBoard } from './board.js';

/** Opens the control socket; a failure is a warning (angel runs on, `angel status <pid>` cannot reach it). */
export function openControlSocket(supervisor: Supervisor, board: StatusBoard): void {
  const unreachable = `angel status ${process.pid} will not reach this angel`;
  const path = supervisor.controlPath;
  if (path === null) {
    supervisor.emit('warning', { message: `control socket: this angel has no runtime directory; ${unreachable}` });
    return;
  }
  // bound now, mode 0600 from the umask at bind; Node's server (and node:net) a turn later, after the first spawn
  const makeServer = (): Server => {
    const server = createServer((connection) => {
      connection.on('error', () => connection.destroy());
      connection.end(`${JSON.stringify(board.snapshot())}\n`);
    });
    server.on('error', (error) => supervisor.emit('warning', { message: `control socket ${path}: ${error.message}` }));
    return server;
  };
  let ended = false;
  let close = (): void => void (ended = true);
  supervisor.once('shutdown', () => close());
  listenOn(makeServer, { kind: 'unix', name: 'control', path, text: `unix:${path}` }, 0o600, 'control socket', null).then(
    (endpoint) => {
      close = () => endpoint.close();
      if (ended) close();
    },
    (error: Error) => supervisor.emit('warning', { message: `control socket ${path}: ${error.message}; ${unreachable}` }),
  );
}
