// When a child counts as started: at exec, when it writes a line to $ANGEL_READY_FD (as s6's
// notification-fd), when a TCP connect succeeds, or after a fixed delay. Each probe is cancellable and
// reports once.
import { closeSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { UsageError } from '../core/errors.js';
import { native } from './native.js';

export type ReadyMode = { kind: 'exec' } | { kind: 'fd' } | { kind: 'tcp'; port: number; host: string } | { kind: 'delay'; ms: number };

export function parseReady(text: string, flag = '--ready'): ReadyMode {
  if (text === 'exec' || text === 'fd') return { kind: text };
  const tcp = /^tcp:(?:([^:]+):)?(\d+)$/.exec(text);
  if (tcp && Number(tcp[2]) > 0 && Number(tcp[2]) <= 65535) return { kind: 'tcp', host: tcp[1] ?? '127.0.0.1', port: Number(tcp[2]) };
  const delay = /^delay:(\d+)$/.exec(text);
  // a Node timer past 2^31-1 ms fires after 1 ms, which would count the child ready at once
  if (delay && Number(delay[1]) <= 2 ** 31 - 1) return { kind: 'delay', ms: Number(delay[1]) };
  throw new UsageError(flag, text, 'expected exec, fd, tcp:PORT or delay:MS');
}

export function formatReady(mode: ReadyMode): string {
  switch (mode.kind) {
    case 'exec':
    case 'fd':
      return mode.kind;
    case 'tcp':
      return `tcp:${mode.host}:${mode.port}`;
    case 'delay':
      return `delay:${mode.ms}`;
  }
}

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
  const [readFd, writeFd] = native.pipe();
  return { readFd, writeFd };
}

const TCP_RETRY_MS = 10;

/** Starts the probe; `onReady` runs once when the child counts as ready. */
export function probeReady(mode: ReadyMode, pipe: ReadyPipe | null, onReady: () => void): ReadyProbe {
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
      let seen = '';
      reader.on('data', (chunk) => {
        seen += chunk.toString('latin1');
        if (seen.includes('\n')) {
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
