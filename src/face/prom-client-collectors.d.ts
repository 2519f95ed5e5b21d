// prom-client's own collectors of a process's metrics, one module each (what collectDefaultMetrics registers all
// of); the package's types declare only collectDefaultMetrics. What face/metrics.ts calls of them.
declare module 'prom-client/lib/metrics/*.js' {
  import type { Registry } from 'prom-client';

  /** Registers the module's metrics on `registry`; read when it is scraped. */
  const register: (registry: Registry, config?: { eventLoopMonitoringPrecision?: number }) => void;
  export default register;
}
