// --metrics for the CLI and for supervise(): prom-client is loaded only when asked for (it costs start-up
// time), and an address that cannot be bound is a usage error, as --listen's is.
import type { ListenSpec } from '../core/addresses.js';
import { UsageError } from '../core/errors.js';
import type { Supervisor } from '../driver/supervisor.js';
import type { StatusBoard } from './board.js';

/** Serves /metrics on `spec` until the supervisor shuts down; emits `listening` once bound. */
export async function serveMetrics(supervisor: Supervisor, board: StatusBoard, spec: ListenSpec): Promise<void> {
  const metrics = await import('./metrics.js');
  try {
    const { server, address } = await metrics.serveMetrics(spec, metrics.metricsRegistry(supervisor, board));
    supervisor.once('shutdown', () => metrics.closeMetrics(server, spec));
    supervisor.emit('listening', { what: 'metrics', address });
  } catch (error) {
    const { code, syscall } = error as NodeJS.ErrnoException;
    if (typeof code !== 'string') throw error;
    supervisor.stop();
    throw new UsageError('--metrics', spec.text, `${syscall ?? 'listen'}: ${code}`);
  }
}

