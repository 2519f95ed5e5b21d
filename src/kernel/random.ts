// Random names (a runtime instance, a cgroup directory) from the kernel's generator: /dev/urandom read
// directly, three system calls, where node:crypto would be loaded first, a few dozen modules before a launch's
// first spawn. Where /dev/urandom cannot be opened (a bare chroot), crypto's getrandom(2) serves.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

/** `bytes` random bytes as hex. */
export function randomHex(bytes: number): string {
  const buffer = Buffer.alloc(bytes);
  let fd: number;
  try {
    fd = openSync('/dev/urandom', 'r');
  } catch {
    return randomBytes(bytes).toString('hex');
  }
  try {
    // a read of up to 256 bytes from /dev/urandom is never short (random(4))
    readSync(fd, buffer);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('hex');
}
