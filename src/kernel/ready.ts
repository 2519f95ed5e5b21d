// When a child counts as started: at exec, when it writes a line to $ANGEL_READY_FD (as s6's
// notification-fd), when a TCP connect succeeds, or after a fixed delay. Each probe is cancellable and
// reports once. (READY=1 on its NOTIFY_SOCKET is read by the generation with its other messages.)
import { closeSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import type { ReadyMode } from '../core/readiness.js';
import { pipe } from './syscalls.js';

export interface ReadyProbe {
  /** Stops probing; the callback is not called afterwards. */
  cancel(): void;
}

/** The pipe of `--ready fd`: the write end goes to the child, angel reads the other. */
export interface ReadyPipe {
  readFd: number;
  writeFd: number;
}

export function openReadyPipe(): ReadyPipe {
  const [readFd, writeFd] = pipe();
  return { readFd, writeFd };
}

/** Closes both ends (a spawn that failed never handed the write end to a child). */
export function closeReadyPipe(pipe: ReadyPipe): void {
  for (const fd of [pipe.readFd, pipe.writeFd]) closeSync(fd);
}

const TCP_RETRY_MS = 10;

/** Starts the probe; `onReady` runs once when the child counts as ready. */
export function probeReady(mode: Exclude<ReadyMode, { kind: 'notify' }>, pipe: ReadyPipe | null, onReady: () => void): ReadyProbe {
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    onReady();
  };
  switch (mode.kind) {
    case 'exec':
      queueMicrotask(finish);
      return { cancel: () => (done = true) };
    case 'delay': {
      const timer = setTimeout(finish, mode.ms);
      return { cancel: () => ((done = true), clearTimeout(timer)) };
    }
    case 'fd': {
      if (!pipe) throw new Error('ready fd: no pipe');
      // angel's copy of the write end must go, or EOF never comes when the child dies without a word
      closeSync(pipe.writeFd);
      const reader = new Socket({ fd: pipe.readFd, readable: true, writable: false });
      // only whether a line has ended: nothing is kept, so a child that writes without end costs one scan of
      // each chunk, never a string that grows
      reader.on('data', (chunk: Buffer) => {
        if (chunk.includes(0x0a)) {
          reader.destroy();
          finish();
        }
      });
      reader.on('error', () => reader.destroy());
      return { cancel: () => ((done = true), reader.destroy()) };
    }
    case 'tcp': {
      let timer: NodeJS.Timeout | null = null;
      let socket: Socket | null = null;
      const attempt = (): void => {
        if (done) return;
        socket = connect({ port: mode.port, host: mode.host });
        socket.once('connect', () => {
          socket?.destroy();
          finish();
        });
        socket.once('error', () => {
          socket?.destroy();
          timer = setTimeout(attempt, TCP_RETRY_MS);
        });
      };
      attempt();
      return {
        cancel: () => {
          done = true;
          if (timer) clearTimeout(timer);
          socket?.destroy();
        },
      };
    }
  }
}
