// --metrics: Prometheus text on GET /metrics, from prom-client: angel's own process, the child's memory as
// --max-mem counts it, the cap, the generation, restarts by reason, overruns, watchdog misses, the restart
// latency as a histogram, and readiness. Served by Node's http on an address of its own, never one of the
// child's held sockets (assemble checks), 127.0.0.1 unless the address names a host. Everything is read when
// scraped: between scrapes the metrics cost the counters' increments only.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import eventLoopLag from 'prom-client/lib/metrics/eventLoopLag.js';
import heapSizeAndUsed from 'prom-client/lib/metrics/heapSizeAndUsed.js';
import osMemoryHeap from 'prom-client/lib/metrics/osMemoryHeap.js';
import processCpuTotal from 'prom-client/lib/metrics/processCpuTotal.js';
import processMaxFileDescriptors from 'prom-client/lib/metrics/processMaxFileDescriptors.js';
import processOpenFileDescriptors from 'prom-client/lib/metrics/processOpenFileDescriptors.js';
import processStartTime from 'prom-client/lib/metrics/processStartTime.js';
import version from 'prom-client/lib/metrics/version.js';
import type { ListenSpec } from '../core/addresses.js';
import type { Supervisor } from '../driver/supervisor.js';
import { listenOn, type Endpoint, type FsRights } from '../driver/outside.js';
import type { StatusBoard } from './board.js';

/** Restart latency buckets, in seconds: a crash loop restarts in well under a millisecond, a --ready probe
 * can take seconds. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function metricsRegistry(supervisor: Supervisor, board: StatusBoard): Registry {
  const register = new Registry();
  // angel's own process, from prom-client's own collectors: the process metrics every Prometheus client
  // library exports (CPU, resident and virtual memory, open fds and their limit, start time), and Node's heap,
  // event loop lag and version. The rest of what collectDefaultMetrics registers (the heap's eight spaces, a GC
  // duration histogram fed by an observer of every collection, libuv's handles, requests and resources)
  // describes Node more than angel, and cost some two fifths of a scrape's CPU here. The lag is sampled by a
  // timer at this precision, which wakes angel as often: prom-client's 10 ms default would wake it a hundred
  // times a second, more than the watching itself does; a second still shows any stall of angel's loop, as its
  // max.
  for (const collector of [processCpuTotal, processStartTime, osMemoryHeap, processOpenFileDescriptors, processMaxFileDescriptors, eventLoopLag, heapSizeAndUsed, version]) {
    collector(register, { eventLoopMonitoringPrecision: 1000 });
  }
  const snapshot = () => board.snapshot();
  new Gauge({
    name: 'angel_info', help: 'angel, its pid and state, and the program it supervises (value 1)', labelNames: ['version', 'pid', 'state', 'program'],
    registers: [register],
    collect() {
      const report = snapshot();
      this.reset();
      this.set({ version: report.version, pid: report.angelPid, state: report.state, program: [report.program, ...report.args].join(' ') }, 1);
    },
  });
  new Gauge({ name: 'angel_child_pid', help: 'the serving child\'s pid (0: none runs)', registers: [register], collect() {
    this.set(supervisor.pid ?? 0);
  } });
  new Gauge({
    name: 'angel_last_exit_time_seconds', help: 'when the last generation ended, since the epoch, with how', labelNames: ['generation', 'reason', 'code', 'signal'],
    registers: [register],
    collect() {
      const { lastExit } = snapshot();
      this.reset();
      if (lastExit) this.set({ generation: lastExit.generation, reason: lastExit.reason, code: String(lastExit.code ?? ''), signal: lastExit.signal ?? '' }, lastExit.at / 1000);
    },
  });
  new Gauge({ name: 'angel_generation', help: 'the serving generation (ANGEL_GENERATION), or the last one started', registers: [register], collect() {
    this.set(supervisor.generation);
  } });
  new Gauge({ name: 'angel_child_ready', help: '1 when a child runs and is ready (--ready), else 0', registers: [register], collect() {
    this.set(snapshot().ready ? 1 : 0);
  } });
  new Gauge({ name: 'angel_child_resident_memory_bytes', help: 'resident memory of the child\'s whole process tree, as --max-mem counts it', registers: [register], collect() {
    this.set(snapshot().rssBytes ?? 0);
  } });
  new Gauge({ name: 'angel_memory_cap_bytes', help: 'the --max-mem cap (0: none)', registers: [register], collect() {
    this.set(supervisor.capBytes ?? 0);
  } });
  new Gauge({ name: 'angel_child_start_time_seconds', help: 'when the serving child was started, since the epoch (0: none runs)', registers: [register], collect() {
    this.set((snapshot().childStartedAt ?? 0) / 1000);
  } });
  new Gauge({
    name: 'angel_child_status_info', help: 'the child\'s last STATUS= text (sd_notify), value 1', labelNames: ['status'], registers: [register],
    collect() {
      const { status } = snapshot();
      this.reset();
      if (status !== null) this.set({ status }, 1);
    },
  });
  const restarts = new Counter({ name: 'angel_restarts_total', help: 'restarts of the child, by why: how the generation it replaces ended or is ending', labelNames: ['reason'], registers: [register] });
  const exits = new Counter({ name: 'angel_child_exits_total', help: 'ends of a generation, by reason', labelNames: ['reason'], registers: [register] });
  const overruns = new Counter({ name: 'angel_overruns_total', help: 'memory overruns (--max-mem)', registers: [register] });
  const misses = new Counter({ name: 'angel_watchdog_misses_total', help: 'watchdog periods missed (--watchdog), WATCHDOG=trigger included', registers: [register] });
  const latency = new Histogram({
    name: 'angel_restart_latency_seconds', help: 'old child\'s death to the new child\'s exec (or readiness with --ready); 0 for an overlapping reload',
    buckets: LATENCY_BUCKETS, registers: [register],
  });
  supervisor.on('exit', (e) => exits.inc({ reason: e.reason }));
  supervisor.on('restart', (e) => {
    restarts.inc({ reason: e.reason });
    latency.observe(e.restartLatencyMs / 1000);
  });
  supervisor.on('overrun', () => overruns.inc());
  supervisor.on('watchdog', () => misses.inc());
  return register;
}

/** Serves the registry on `spec` (a unix socket mode 0660 from the umask at bind; with `rights`, as the user
 * angel acts for). */
export function serveMetrics(spec: ListenSpec, register: Registry, rights: FsRights | null): Promise<Endpoint> {
  return listenOn(() => metricsServer(register), spec, 0o660, '--metrics', rights);
}

function metricsServer(register: Registry): Server {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    register.metrics().then(
      (text) => response.writeHead(200, { 'content-type': register.contentType }).end(text),
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  // a scraper's keep-alive connection must not hold angel open at exit
  server.keepAliveTimeout = 5000;
  return server;
}
