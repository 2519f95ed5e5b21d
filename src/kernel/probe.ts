// `angel bench --probe`: a bounded client loop on loopback during the reloads. One attempt at a time, each on a
// fresh connection so that every one meets the listening socket: a TCP connect (tcp:PORT), or a GET whose
// answer is read to its end (http://…). A failure is named by its errno (ECONNREFUSED, ECONNRESET), ETIMEDOUT,
// or the HTTP status (5xx). Bounded: a short pause after a failure, so a refused port is not hammered while
// angel is being timed beside it, and at most MAX_ATTEMPTS per window.
import { request } from 'node:http';
import { connect } from 'node:net';
import type { ProbeTarget } from '../core/probe.js';

export interface ProbeCount {
  requests: number;
  failed: number;
  /** Failures by cause: `ECONNREFUSED`, `HTTP 503`, … */
  errors: Record<string, number>;
}

const ATTEMPT_TIMEOUT_MS = 5000;
const PAUSE_AFTER_FAILURE_MS = 1;
const MAX_ATTEMPTS = 100_000;

class ProbeFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

const causeOf = (error: unknown): string =>
  error instanceof ProbeFailure ? error.reason : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);

function connectOnce(target: { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port, timeout: ATTEMPT_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => socket.destroy(new ProbeFailure('ETIMEDOUT')));
    socket.once('error', reject);
  });
}

function getOnce(url: URL): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: ATTEMPT_TIMEOUT_MS, headers: { connection: 'close' } }, (response) => {
      response.resume();
      response.once('end', () => ((response.statusCode ?? 500) < 500 ? resolve() : reject(new ProbeFailure(`HTTP ${response.statusCode}`))));
      response.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new ProbeFailure('ETIMEDOUT')));
    req.once('error', reject);
    req.end();
  });
}

export class Probe {
  readonly count: ProbeCount = { requests: 0, failed: 0, errors: {} };
  #answered = 0;
  #running = true;
  #waiters = new Set<() => void>();
  readonly #loop: Promise<void>;

  constructor(readonly target: ProbeTarget) {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (this.#running && this.count.requests < MAX_ATTEMPTS) {
      this.count.requests++;
      try {
        await (this.target.kind === 'tcp' ? connectOnce(this.target) : getOnce(this.target.url));
        this.#answered++;
      } catch (error) {
        this.count.failed++;
        const cause = causeOf(error);
        this.count.errors[cause] = (this.count.errors[cause] ?? 0) + 1;
        await new Promise((resolve) => setTimeout(resolve, PAUSE_AFTER_FAILURE_MS));
      }
      for (const waiter of this.#waiters) waiter();
    }
  }

  /** Resolves once `more` attempts were answered from now; rejects with the failures seen at the deadline. */
  answered(more: number, timeoutMs: number): Promise<void> {
    const target = this.#answered + more;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.#answered < target) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        const causes = Object.keys(this.count.errors).join(', ') || 'no answer';
        reject(new Error(`${this.count.requests} attempts, ${this.#answered} answered in ${timeoutMs} ms (${causes})`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  async stop(): Promise<ProbeCount> {
    this.#running = false;
    await this.#loop;
    return this.count;
  }
}
