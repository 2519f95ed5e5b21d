// A lock on a directory, held by an open fd (flock(2), which works on cgroupfs as on any filesystem): the proof
// that the angel owning the directory lives. The kernel drops it when the last fd closes, however angel dies, and
// it holds across PID namespaces, where a pid names a different process in each.
import { closeSync, constants } from 'node:fs';
import { AT_FDCWD } from './safeopen.js';
import { lockFd, openAt } from './syscalls.js';

/** Opens `path` (a directory, not followed if a link) and takes its lock, exclusive unless `shared`; with `wait`,
 * until it is free; without, null when another process holds it (exclusive, or any for an exclusive one). The
 * fd returned holds the lock until it is closed. */
export function lockDirectory(path: string, wait: boolean, shared = false): number | null {
  const fd = openAt(AT_FDCWD, path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW, 0);
  try {
    if (lockFd(fd, !shared, wait)) return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  closeSync(fd);
  return null;
}
