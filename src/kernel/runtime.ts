// Where one running angel keeps what others reach it by: its control socket (`angel status <pid>`) and the
// directory of its generations' NOTIFY_SOCKETs. Root's is /run/angel; another user's is
// $XDG_RUNTIME_DIR/angel, or /tmp/angel-<uid> without one. Each is checked through what was created: a
// directory of that user that no one else can write to, so no other user can plant a path in it.
import { lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

const ROOT_DIRECTORY = '/run/angel';

/** The runtime directory of an angel running as `uid`, as that angel's environment names it. */
export function runtimeDirectory(uid: number, env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (uid === 0) return ROOT_DIRECTORY;
  const xdg = env.XDG_RUNTIME_DIR;
  return xdg !== undefined && isAbsolute(xdg) ? join(xdg, 'angel') : `/tmp/angel-${uid}`;
}

/** Where the angel of `uid` may keep its sockets, seen from another environment (angel status): the runtime
 * directory this environment names, systemd's per-user one, and the fallback. */
export function runtimeCandidates(uid: number, env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  const candidates = [runtimeDirectory(uid, env), uid === 0 ? ROOT_DIRECTORY : `/run/user/${uid}/angel`, `/tmp/angel-${uid}`];
  return [...new Set(candidates)];
}

/** The real uid a process runs as (/proc/<pid>/status), or null when there is no such process. */
export function processOwner(pid: number): number | null {
  try {
    const uid = /\nUid:\t(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
    return uid === undefined ? null : Number(uid);
  } catch {
    return null;
  }
}

/** Creates the directory (0711 for root, whose children of other users must pass through it; 0700 otherwise)
 * and checks what is there: a directory, not a link, of `uid`, writable by no one else. Throws naming why. */
export function ensureRuntimeDirectory(path: string, uid: number): string {
  try {
    mkdirSync(path, { mode: uid === 0 ? 0o711 : 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stat = lstatSync(path);
  if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o022) !== 0) {
    throw Object.assign(new Error(`${path}: expected a directory of uid ${uid} that no one else can write to`), { code: 'EPERM' });
  }
  return path;
}
