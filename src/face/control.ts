// The control socket `angel status <pid>` reads: a unix stream socket in this angel's runtime instance
// (kernel/runtime.ts: <base>/angel.<id>/control.sock, unique across PID namespaces), mode 0600, so only angel's
// own user (and root) can ask. `angel status` finds it through /proc from the pid. A connection gets the
// status report as one line of JSON and is closed; the socket reads nothing, so there is nothing to send it
// but a connect. The addon answers it (driver/outside.ts answerOnUnix): no node:net in an angel without
// --metrics.
import { answerOnUnix } from '../driver/outside.js';
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
  try {
    const endpoint = answerOnUnix(path, 0o600, 'control socket', null, () => `${JSON.stringify(board.snapshot())}\n`,
      (code) => supervisor.emit('warning', { message: `control socket ${path}: accept: ${code}` }));
    supervisor.once('shutdown', () => endpoint.close());
  } catch (error) {
    supervisor.emit('warning', { message: `control socket ${path}: ${(error as Error).message}; ${unreachable}` });
  }
}
