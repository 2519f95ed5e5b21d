// Peers that are Debian packages (tini, dumb-init), installed on first use as benchmarks/lib/pm2.ts installs
// PM2: apt-get when angel's benchmarks run as root, and otherwise a reason that names the package.
import { spawnSync } from 'node:child_process';
import { resolveProgram } from '../../src/kernel/spawn.js';

/** Whether the command is found on PATH, as angel itself would find a program (execvp's rule). */
function onPath(command: string): boolean {
  try {
    resolveProgram(command, process.env.PATH, undefined);
    return true;
  } catch {
    return false;
  }
}

function aptInstall(packages: readonly string[]): boolean {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = (): boolean => spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'ignore', env }).status === 0;
  if (install()) return true;
  // a fresh machine has no package lists yet
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  return install();
}

/** Makes sure each command (of the Debian package of the same name) is on PATH: null when it is, else why not. */
export function ensureDebianCommands(commands: readonly string[]): Map<string, string | null> {
  const missing = commands.filter((command) => !onPath(command));
  if (missing.length > 0 && process.getuid?.() === 0 && onPath('apt-get')) {
    process.stderr.write(`installing ${missing.join(', ')} (apt-get install)…\n`);
    aptInstall(missing);
  }
  return new Map(commands.map((command) => [command, onPath(command) ? null : `${command} is not installed (apt-get install ${command})`]));
}
