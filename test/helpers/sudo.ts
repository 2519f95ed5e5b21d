// A real sudo setup, as an admin would write it, made by a test (as root) and removed after it, also when it
// fails: a user in a group, programs granted to that group (root's, group svc, 0755, in a directory only root
// can write to), angel's command at /usr/local/bin, and the sudoers line
//   <user> ALL=(root) NOPASSWD: /usr/local/bin/<angel>
// Commands then run as that user (setpriv, with a clean environment), through sudo, as an attacker would.
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { resolveProgram } from '../../src/kernel/spawn.js';
import { ROOT } from './events.js';

/** Why real sudo cannot be used here, or null when it can. */
export function sudoMissing(): string | null {
  if (process.geteuid?.() !== 0) return 'needs root to create the user and the sudoers line';
  for (const tool of ['sudo', 'visudo', 'setpriv', 'useradd', 'groupadd']) {
    try {
      resolveProgram(tool, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', undefined);
    } catch {
      return `needs ${tool} (apt-get install sudo util-linux passwd), not found`;
    }
  }
  return null;
}

/** What sudoers keeps of the user's environment (env_keep): node-gyp-build's variables, which would choose the
 * .node file root's angel loads. */
const KEPT = ['ANGEL_SUPERVISOR_PREBUILD', 'PREBUILDS_ONLY', 'LIBC'];

export interface SudoSetup {
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
  /** The granted group. */
  readonly group: string;
  readonly svcGid: number;
  /** angel's command as sudoers names it. */
  readonly angel: string;
  /** Where the granted programs are (root's, 0755). */
  readonly granted: string;
  /** A directory of the user's own, as their home would be. */
  readonly home: string;
  /** Grants a copy of `source` (or `text`, a script) as `name`: root's, the group's, 0755. */
  grant(name: string, content: { copy: string } | { text: string }): string;
  /** Runs a command as the user, clean environment; `sudo` puts `sudo -n <angel>` in front. */
  spawn(args: readonly string[], options?: { sudo?: boolean; env?: Record<string, string> }): ChildProcessWithoutNullStreams;
  run(args: readonly string[], options?: { sudo?: boolean; input?: string; timeoutMs?: number; env?: Record<string, string> }): SpawnSyncReturns<string>;
  remove(): void;
}

export function makeSudoSetup(): SudoSetup {
  const tag = randomBytes(3).toString('hex');
  const user = `angu${tag}`;
  const group = `angsvc${tag}`;
  const angel = `/usr/local/bin/angel-test-${tag}`;
  const sudoers = `/etc/sudoers.d/angel-test-${tag}`;
  const granted = `/usr/local/libexec/angel-test-${tag}`;
  const made: Array<() => void> = [];
  const remove = (): void => {
    for (const undo of made.splice(0).reverse()) {
      try {
        undo();
      } catch {}
    }
  };
  process.once('exit', remove);
  try {
    execFileSync('groupadd', [group]);
    made.push(() => execFileSync('groupdel', [group]));
    execFileSync('useradd', ['--no-create-home', '--no-user-group', '--gid', 'nogroup', '--groups', group, '--shell', '/bin/sh', user]);
    made.push(() => execFileSync('userdel', [user]));
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
    const svcGid = Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);
    const home = mkdtempSync(`/tmp/angel-sudo-home-${tag}-`);
    chownSync(home, uid, gid);
    made.push(() => rmSync(home, { recursive: true, force: true }));
    mkdirSync(granted, { recursive: true, mode: 0o755 });
    made.push(() => rmSync(granted, { recursive: true, force: true }));
    // sudo runs the checkout's command (the checkout may be in a 0700 directory: root reaches it)
    symlinkSync(join(ROOT, 'bin', 'angel'), angel);
    made.push(() => rmSync(angel, { force: true }));
    // and, as an admin might, variables the user's environment passes through sudo (env_keep): one that names a
    // directory of the user's reaches root's angel
    writeFileSync(sudoers, `Defaults:${user} env_keep += "${KEPT.join(' ')}"\n${user} ALL=(root) NOPASSWD: ${angel}\n`, { mode: 0o440 });
    made.push(() => rmSync(sudoers, { force: true }));
    execFileSync('visudo', ['-c', '-q', '-f', sudoers]);
    const setup: SudoSetup = {
      user, uid, gid, group, svcGid, angel, granted, home,
      grant(name, content) {
        const path = join(granted, name);
        if ('copy' in content) copyFileSync(content.copy, path);
        else writeFileSync(path, content.text);
        chownSync(path, 0, svcGid);
        chmodSync(path, 0o755);
        return path;
      },
      spawn(args, options = {}) {
        const command = [...(options.sudo === false ? [] : ['sudo', '-n', angel]), ...args];
        const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8', ...options.env };
        return spawn('setpriv', [`--reuid=${user}`, '--regid=nogroup', '--init-groups', 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...command]);
      },
      run(args, options = {}) {
        const command = [...(options.sudo === false ? [] : ['sudo', '-n', angel]), ...args];
        const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, ...options.env };
        return spawnSync('setpriv', [`--reuid=${user}`, '--regid=nogroup', '--init-groups', 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...command], {
          encoding: 'utf8', input: options.input ?? '', timeout: options.timeoutMs ?? 30_000,
        });
      },
      remove,
    };
    if (!existsSync(angel)) throw new Error(`${angel} was not made`);
    return setup;
  } catch (error) {
    remove();
    throw error;
  }
}
