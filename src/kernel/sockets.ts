// --listen: sockets bound once by angel, kept for its whole life, and handed to every generation as fds
// 3, 4, … with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES (sd_listen_fds(3)). A connection that arrives
// while no child runs waits in the backlog instead of being refused.
import { closeSync, lstatSync, unlinkSync } from 'node:fs';
import type { ListenSpec } from '../core/addresses.js';
import { errorCode } from '../core/errnos.js';
import { UsageError } from '../core/errors.js';
import { listenInet, listenUnix } from './syscalls.js';

const DEFAULT_BACKLOG = 511;

export interface HeldSocket {
  readonly spec: ListenSpec;
  readonly fd: number;
  /** The port actually bound (differs from the spec's when it asked for port 0). */
  readonly port: number | null;
}

function removeStaleSocket(path: string, text: string): void {
  try {
    if (!lstatSync(path).isSocket()) throw new UsageError('--listen', text, 'expected a path that is free or a stale socket, found a file');
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Binds every spec; on any failure closes those already bound and throws a UsageError naming the address and errno. */
export function bindAll(specs: readonly ListenSpec[], socketMode: number, backlog = DEFAULT_BACKLOG): HeldSocket[] {
  const held: HeldSocket[] = [];
  try {
    for (const spec of specs) {
      try {
        if (spec.kind === 'inet') {
          const [fd, port] = listenInet(spec.family, spec.address, spec.port, backlog);
          held.push({ spec, fd, port });
        } else {
          removeStaleSocket(spec.path, spec.text);
          held.push({ spec, fd: listenUnix(spec.path, backlog, socketMode), port: null });
        }
      } catch (error) {
        const { code, syscall } = error as NodeJS.ErrnoException;
        if (typeof code === 'string' && typeof syscall === 'string') throw new UsageError('--listen', spec.text, `${syscall}: ${errorCode(error)}`);
        throw error;
      }
    }
  } catch (error) {
    closeAll(held);
    throw error;
  }
  return held;
}

/** Closes the sockets and removes the unix socket files angel created. */
export function closeAll(held: readonly HeldSocket[]): void {
  for (const socket of held) {
    try {
      closeSync(socket.fd);
    } catch {}
    if (socket.spec.kind === 'unix') {
      try {
        unlinkSync(socket.spec.path);
      } catch {}
    }
  }
}

/** The environment that tells a child about its sockets (LISTEN_PID is written in the fork path). */
export function listenEnvironment(held: readonly HeldSocket[]): Record<string, string> {
  if (held.length === 0) return {};
  return { LISTEN_FDS: String(held.length), LISTEN_FDNAMES: held.map((socket) => socket.spec.name).join(':') };
}
