// PM2, the peer: installed from benchmarks/package.json (npm ci --prefix benchmarks, done here on first use),
// each use with a daemon of its own in a scratch PM2_HOME, killed afterwards. PM2 takes its settings from
// the environment of the command that starts its daemon (PM2_WORKER_INTERVAL: how often it checks memory).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCHMARKS } from './compile.js';

const PM2 = join(BENCHMARKS, 'node_modules', 'pm2', 'bin', 'pm2');

let installError: string | null | undefined;

/** Installs the peers once; throws (for the rows that need PM2) when that fails. */
function ensureInstalled(): void {
  if (installError === undefined) {
    installError = null;
    if (!existsSync(PM2)) {
      process.stderr.write('installing the peers of benchmarks/package.json (npm ci --prefix benchmarks)…\n');
      const result = spawnSync('npm', ['ci', '--prefix', BENCHMARKS, '--no-audit', '--no-fund'], { encoding: 'utf8' });
      if (result.status !== 0 || !existsSync(PM2)) installError = `PM2 not installed (npm ci --prefix benchmarks: ${result.stderr.trim().split('\n').pop() ?? result.status})`;
    }
  }
  if (installError) throw new Error(installError);
}

/** PM2's version for a row's name, installing the peers first if need be (a table named before the first
 * PM2 run would otherwise say '?' on a fresh clone). */
export const pm2Version = (): string => {
  try {
    ensureInstalled();
    return (JSON.parse(readFileSync(join(BENCHMARKS, 'node_modules', 'pm2', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
};

/** The fields of an ecosystem file's app that the benchmarks use. */
export interface Pm2App {
  name: string;
  script: string;
  args: string[];
  /** 'none': a binary, no interpreter. */
  interpreter: 'none';
  exec_mode: 'fork';
  autorestart: boolean;
  max_restarts?: number;
  min_uptime?: number;
  restart_delay?: number;
  max_memory_restart?: string;
  kill_timeout?: number;
  out_file: string;
  error_file: string;
}

export class Pm2Daemon {
  readonly home: string;
  readonly #env: NodeJS.ProcessEnv;

  /** Starts a daemon of its own (about 1 s); `env` reaches the daemon, e.g. PM2_WORKER_INTERVAL. */
  constructor(env: Record<string, string> = {}) {
    ensureInstalled();
    this.home = mkdtempSync(join(tmpdir(), 'angel-bench-pm2-'));
    // no version check (the network) and no colours in what it prints
    this.#env = { ...process.env, ...env, PM2_HOME: this.home, PM2_DISABLE_VERSION_CHECK: 'true', FORCE_COLOR: '0' };
    this.#pm2(['ping']);
  }

  /** The daemon's pid (its "God" process, which watches and restarts the apps). */
  get pid(): number {
    return Number(readFileSync(join(this.home, 'pm2.pid'), 'utf8'));
  }

  start(app: Pm2App): void {
    const file = join(this.home, `${app.name}.config.json`);
    writeFileSync(file, JSON.stringify({ apps: [app] }));
    this.#pm2(['start', file]);
  }

  /** Stops the apps and the daemon, and removes its home. */
  kill(): void {
    try {
      this.#pm2(['kill']);
    } finally {
      rmSync(this.home, { recursive: true, force: true });
    }
  }

  #pm2(args: string[]): string {
    const result = spawnSync(process.execPath, [PM2, ...args], { env: this.#env, encoding: 'utf8', timeout: 30_000 });
    if (result.status !== 0) throw new Error(`pm2 ${args[0]} exited ${result.status ?? result.signal}: ${(result.stderr || result.stdout).trim().split('\n').pop()}`);
    return result.stdout;
  }
}
