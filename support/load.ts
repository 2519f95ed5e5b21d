// A bounded HTTP client on loopback: requests one after another, without pause, until stopped; each
// answer or failure is counted. Fresh connections each time, so every request meets the listening socket.
import { request } from 'node:http';
import type { TestContext } from 'node:test';
import { performance } from 'node:perf_hooks';

export interface LoadResult {
  ok: number;
  failed: number;
  errors: string[];
  /** Answers per generation, from the server's `generation <N>` body. */
  generations: Map<string, number>;
  /** The latency of every answered request, in ms. */
  latencies: number[];
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path: '/', agent: false, timeout: 10_000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => (response.statusCode === 200 ? resolve(body) : reject(new Error(`status ${response.statusCode}`))));
      response.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export class Load {
  readonly result: LoadResult = { ok: 0, failed: 0, errors: [], generations: new Map(), latencies: [] };
  #running = true;
  readonly #loop: Promise<void>;

  constructor(
    readonly port: number,
    readonly maxRequests = 200_000,
    readonly maxMs = 60_000,
  ) {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    const until = Date.now() + this.maxMs;
    for (let sent = 0; this.#running && sent < this.maxRequests && Date.now() < until; sent++) {
      const start = performance.now();
      try {
        const body = await get(this.port);
        this.result.latencies.push(performance.now() - start);
        this.result.ok++;
        const generation = /^generation (\S+)/.exec(body)?.[1] ?? '?';
        this.result.generations.set(generation, (this.result.generations.get(generation) ?? 0) + 1);
      } catch (error) {
        this.result.failed++;
        if (this.result.errors.length < 10) this.result.errors.push((error as Error).message);
      }
    }
  }

  /** Resolves once `count` more requests were answered; rejects at the deadline. */
  async answered(count: number, timeoutMs = 10_000): Promise<void> {
    const target = this.result.ok + count;
    const deadline = Date.now() + timeoutMs;
    while (this.result.ok < target) {
      if (Date.now() > deadline || !this.#running) {
        throw new Error(`only ${this.result.ok} of ${target} answered; failures: ${this.result.errors.join('; ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  async stop(): Promise<LoadResult> {
    this.#running = false;
    await this.#loop;
    return this.result;
  }
}

/** Load on `port` for the length of a test; when the test ends, failed or not, the load and angel stop. */
export function loadDuring(t: TestContext, run: { kill(): void }, port: number): Load {
  const load = new Load(port);
  t.after(async () => {
    run.kill();
    await load.stop();
  });
  return load;
}
