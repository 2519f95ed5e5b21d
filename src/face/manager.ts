// angel itself under a service manager (systemd's Type=notify, NotifyAccess=main): when angel's environment
// names a NOTIFY_SOCKET, angel tells it READY=1 once the first generation is ready, RELOADING=1 … READY=1
// around a reload, STOPPING=1 when it shuts down, STATUS= with the generation and its memory, and pings its
// own watchdog at half of WATCHDOG_USEC. The child never sees this socket (core/environment.ts strips it).
import { formatNotify, managerWatchdogMs } from '../core/notify.js';
import { managerStatus } from '../core/status.js';
import { notifyManager } from '../driver/outside.js';
import type { Supervisor } from '../driver/supervisor.js';
import type { StatusBoard } from './board.js';

/** STATUS= with the memory is refreshed on samples at most this often. */
const STATUS_EVERY_MS = 5000;

export function speakToManager(supervisor: Supervisor, board: StatusBoard, env: Readonly<Record<string, string | undefined>> = process.env): void {
  const address = env.NOTIFY_SOCKET;
  if (address === undefined || address === '') return;
  let failed: string | null = null;
  const send = (fields: Record<string, string | number>): void => {
    try {
      notifyManager(address, formatNotify(fields));
      failed = null;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
      // one warning while it keeps failing the same way (a manager gone away), not one per ping
      if (failed !== code) supervisor.emit('warning', { message: `NOTIFY_SOCKET ${address}: sendto: ${code}`, code });
      failed = code;
    }
  };
  let lastStatus = '';
  let statusAt = 0;
  const status = (): string => {
    lastStatus = managerStatus(board.snapshot());
    statusAt = Date.now();
    return lastStatus;
  };
  let readySent = false;
  let reloading = false;
  let stopping = false;
  const ready = (): void => {
    send({ READY: 1, ...(!readySent && { MAINPID: process.pid }), STATUS: status() });
    readySent = true;
    reloading = false;
  };
  const reload = (): void => {
    if (!readySent || reloading || stopping) return;
    reloading = true;
    // Type=notify-reload wants the time of the request on CLOCK_MONOTONIC, which is libuv's hrtime
    send({ RELOADING: 1, MONOTONIC_USEC: (process.hrtime.bigint() / 1000n).toString(), STATUS: 'reloading' });
  };
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    send({ STOPPING: 1, STATUS: 'stopping' });
  };

  supervisor.on('state', (e) => {
    if (e.to === 'running' && (!readySent || reloading)) ready();
    else if (e.trigger === 'reload' && (e.from === 'running' || e.from === 'backoff')) reload();
    else if (e.to === 'stopping' && e.trigger === 'shutdown') stop();
  });
  // --reload signal: the child reloads itself and says so (RELOADING=1, then READY=1)
  supervisor.on('notify', (e) => {
    if (e.generation !== supervisor.generation) return;
    if (e.reloading) reload();
    else if (e.ready && reloading && supervisor.state === 'running') ready();
  });
  for (const event of ['exit', 'restart', 'overrun', 'watchdog'] as const) {
    supervisor.on(event, () => {
      if (readySent && !stopping) send({ STATUS: status() });
    });
  }
  supervisor.on('sample', () => {
    if (!readySent || stopping || Date.now() - statusAt < STATUS_EVERY_MS) return;
    const text = managerStatus(board.snapshot());
    if (text !== lastStatus) send({ STATUS: status() });
  });

  const watchdogMs = managerWatchdogMs(env, process.pid);
  const ping = watchdogMs === null ? null : setInterval(() => send({ WATCHDOG: 1 }), Math.max(1, Math.floor(watchdogMs / 2))).unref();
  supervisor.on('shutdown', () => {
    stop();
    if (ping) clearInterval(ping);
  });
}
