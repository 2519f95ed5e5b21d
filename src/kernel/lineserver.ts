// A listening stream socket that answers every connection with one line and closes it (the control socket):
// the addon accepts, sends and closes (acceptSend) when libuv finds the socket readable, so no node:net is
// loaded for it. A failed accept other than for want of a connection (EMFILE) pauses the watch for a second:
// the connection it left pending would wake it again at once. A streak of failures is told once, at its start.
import { closeSync } from 'node:fs';
import { errnoName } from '../core/errnos.js';
import { acceptSend, unwatchFd, watchFd, type FdWatch } from './syscalls.js';

const PAUSE_MS = 1000;

export interface LineServer {
  /** Stops answering and closes the socket. */
  close(): void;
}

/** Answers each connection on the listening socket `fd` with `line()`, made afresh for each wake; `onError`
 * hears of the first failed accept of a streak (its errno name), a connection answered ending the streak. The
 * watch never keeps the process alive. */
export function serveLine(fd: number, line: () => string, onError: (code: string) => void): LineServer {
  let watch: FdWatch | null = null;
  let pause: NodeJS.Timeout | null = null;
  let closed = false;
  let failing = false;
  const start = (): void => {
    pause = null;
    if (closed) return;
    watch = watchFd(fd, false, () => {
      const result = acceptSend(fd, line());
      if (result > 0) failing = false;
      if (result >= 0 || watch === null) return;
      if (!failing) onError(errnoName(result));
      failing = true;
      unwatchFd(watch);
      watch = null;
      pause = setTimeout(start, PAUSE_MS).unref();
    });
  };
  start();
  return {
    close() {
      if (closed) return;
      closed = true;
      if (pause) clearTimeout(pause);
      if (watch) unwatchFd(watch);
      watch = null;
      closeSync(fd);
    },
  };
}
