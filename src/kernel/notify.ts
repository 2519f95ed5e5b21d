// NOTIFY_SOCKET (sd_notify(3)): each generation gets a datagram socket of its own, bound by angel in a
// directory only angel and the child's user can reach, read with the sender's credentials (SO_PASSCRED);
// and angel tells its own manager about itself through the socket its manager named. What the messages mean
// is core/notify.ts's; who may send them is the generation's call.
import { chmodSync, chownSync, closeSync, lchownSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NotifyWatchHandle } from './syscalls.js';
import { Instance } from './runtime.js';
import { notifyClose, notifySend, notifySocket, notifyWatch } from './syscalls.js';

/** The child's user, when angel is root and the child runs as another. */
export interface SocketOwner {
  uid: number;
  gid: number;
}

/** What a datagram brought: its text, and the sender's pid and uid as the kernel vouches for them (pid 0 when
 * none came). Truncated: longer than the 4096 bytes angel reads. */
export type NotifyListener = (text: string, pid: number, uid: number, truncated: boolean) => void;

/** One generation's socket: bound when made, read once watched, closed and removed once. */
export class NotifySocket {
  #fd: number;
  #watch: NotifyWatchHandle | null = null;

  constructor(readonly path: string, fd: number) {
    this.#fd = fd;
  }

  watch(listener: NotifyListener): void {
    if (this.#fd < 0 || this.#watch) return;
    this.#watch = notifyWatch(this.#fd, listener);
  }

  close(): void {
    if (this.#fd < 0) return;
    if (this.#watch) notifyClose(this.#watch); // the watch owns the fd
    else closeSync(this.#fd);
    this.#fd = -1;
    rmSync(this.path, { force: true });
  }
}

/** Each supervisor's directory of its generations' sockets, `notify.<n>` in this angel's runtime instance
 * (runtime.ts: unique across PID namespaces, and removed by the next angel if this one is killed); made on
 * first use: angel's and 0700, or 0710 with the child's group when the child runs as another user, so no one
 * but angel can put a path there; each socket 0600 and the child's. */
export class NotifyDirectory {
  static #made = 0;
  #path: string | null = null;
  #instance: Instance | null = null;

  open(generation: number, owner: SocketOwner | null): NotifySocket {
    const directory = this.#ensure(owner);
    const path = join(directory, String(generation));
    rmSync(path, { force: true }); // a socket of this number that angel could not remove
    const socket = new NotifySocket(path, notifySocket(path, 0o600));
    try {
      if (owner) lchownSync(path, owner.uid, owner.gid);
    } catch (error) {
      socket.close();
      throw error;
    }
    return socket;
  }

  /** Removes the directory and anything left in it. */
  close(): void {
    if (this.#path !== null) rmSync(this.#path, { recursive: true, force: true });
    this.#path = null;
    this.#instance?.release();
    this.#instance = null;
  }

  #ensure(owner: SocketOwner | null): string {
    if (this.#path !== null) return this.#path;
    const instance = (this.#instance ??= Instance.acquire());
    const path = join(instance.path, `notify.${NotifyDirectory.#made++}`);
    mkdirSync(path, { mode: 0o700 });
    if (owner) chownSync(path, instance.uid, owner.gid);
    chmodSync(path, owner ? 0o710 : 0o700);
    this.#path = path;
    return path;
  }
}

/** One message to angel's own manager (`NOTIFY_SOCKET` of angel's environment: a path or `@abstract`). Throws
 * with the errno's code (ECONNREFUSED when the manager is gone, EAGAIN when its queue is full). */
export function tellManager(address: string, text: string): void {
  notifySend(address, text);
}
