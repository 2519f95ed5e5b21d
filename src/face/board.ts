// What a running angel can say about itself, kept from the supervisor's events: the one source of `angel
// status`, the metrics and the STATUS= angel tells its own manager.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StatusReport } from '../core/status.js';
import type { ExitReason } from '../core/types.js';
import { packageRoot } from '../driver/outside.js';
import type { Supervisor } from '../driver/supervisor.js';

/** package.json's: the one place a release sets it. */
export const VERSION = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;

export class StatusBoard {
  readonly #supervisor: Supervisor;
  readonly #startedAt = Date.now();
  #childStartedAt: number | null = null;
  #ready = false;
  /** The last sample of the serving child's tree (with --max-mem), or null: then read when asked. */
  #rssBytes: number | null = null;
  #restarts = 0;
  #restartsByReason: Partial<Record<ExitReason, number>> = {};
  #overruns = 0;
  #watchdogMisses = 0;
  #lastExit: StatusReport['lastExit'] = null;
  /** Each live generation's last STATUS=: a successor's comes before it serves. */
  #statuses = new Map<number, string>();

  constructor(supervisor: Supervisor) {
    this.#supervisor = supervisor;
    supervisor.on('start', (e) => {
      if (e.generation === supervisor.generation) this.#serving(Date.now());
    });
    supervisor.on('ready', (e) => {
      // a successor becomes the serving one when it is ready
      if (this.#childStartedAt === null || e.generation === supervisor.generation) this.#serving(Date.now() - e.startLatencyMs);
      this.#ready = true;
    });
    supervisor.on('sample', (e) => {
      if (e.pid === supervisor.pid) this.#rssBytes = e.rssBytes;
    });
    supervisor.on('exit', (e) => {
      this.#statuses.delete(e.generation);
      this.#lastExit = { generation: e.generation, reason: e.reason, code: e.code, signal: e.signal, at: Date.now() };
      if (supervisor.pid === undefined) {
        this.#ready = false;
        this.#childStartedAt = null;
        this.#rssBytes = null;
      }
    });
    supervisor.on('restart', (e) => {
      this.#restarts++;
      this.#restartsByReason[e.reason] = (this.#restartsByReason[e.reason] ?? 0) + 1;
    });
    supervisor.on('overrun', () => this.#overruns++);
    supervisor.on('watchdog', () => this.#watchdogMisses++);
    supervisor.on('notify', (e) => {
      if (e.status !== null) this.#statuses.set(e.generation, e.status);
    });
  }

  #serving(at: number): void {
    this.#childStartedAt = at;
    this.#ready = false;
  }

  snapshot(): StatusReport {
    const supervisor = this.#supervisor;
    const { options } = supervisor;
    const childPid = supervisor.pid ?? null;
    return {
      angelPid: process.pid,
      version: VERSION,
      program: options.program,
      args: [...options.args],
      state: supervisor.state,
      startedAt: this.#startedAt,
      generation: supervisor.generation,
      childPid,
      childStartedAt: childPid === null ? null : this.#childStartedAt,
      ready: childPid !== null && this.#ready,
      rssBytes: childPid === null ? null : (options.maxMem !== null ? this.#rssBytes : null) ?? supervisor.residentNow(),
      capBytes: supervisor.capBytes,
      restarts: this.#restarts,
      restartsByReason: { ...this.#restartsByReason },
      overruns: this.#overruns,
      watchdogMisses: this.#watchdogMisses,
      lastExit: this.#lastExit,
      status: this.#statuses.get(supervisor.generation) ?? null,
    };
  }
}
