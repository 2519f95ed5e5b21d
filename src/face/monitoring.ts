// --metrics for the CLI and for supervise(): prom-client is loaded only when asked for (it costs start-up
// time), and an address that cannot be bound is a usage error, as --listen's is.
import type { ListenSpec } from '../core/addresses.js';
import { UsageError } from '../core/errors.js';
import type { Supervisor } from '../driver/supervisor.js';
import type { FsRights } from '../driver/outside.js';
import type { StatusBoard } from './board.js';

/** Serves /metrics on `spec` until the supervisor shuts down; emits `listening` once bound. A unix socket's
 * path is used with `rights` (the user angel is root for). */
export async function serveMetrics(supervisor: Supervisor, board: StatusBoard, spec: ListenSpec, rights: FsRights | null = null): Promise<void> {
  const metrics = await import('./metrics.js');
  try {
    const endpoint = await metrics.serveMetrics(spec, metrics.metricsRegistry(supervisor, board), rights);
    supervisor.once('shutdown', () => endpoint.close());
    supervisor.emit('listening', { what: 'metrics', address: endpoint.address });
  } catch (error) {
    if (error instanceof UsageError) {
      supervisor.stop();
      throw error;
    }
    const { code, syscall } = error as NodeJS.ErrnoException;
    if (typeof code !== 'string') throw error;
    supervisor.stop();
    throw new UsageError('--metrics', spec.text, `${syscall ?? 'listen'}: ${code}`);
  }
}

