// --listen: sockets bound once by angel, kept for its whole life, and handed to every generation as fds
// 3, 4, … with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES (sd_listen_fds(3)). A connection that arrives
// while no child runs waits in the backlog instead of being refused.
import { closeSync, lstatSync, unlinkSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { native } from './native.js';

export const SD_LISTEN_FDS_START = 3;
export const DEFAULT_BACKLOG = 511;

export type ListenSpec =
  | { kind: 'inet'; name: string; family: 4 | 6; address: string; port: number; text: string }
  | { kind: 'unix'; name: string; path: string; text: string };

export interface HeldSocket {
  readonly spec: ListenSpec;
  readonly fd: number;
  /** The port actually bound (differs from the spec's when it asked for port 0). */
  readonly port: number | null;
}

/** Parses `[name=][host:]port`, `[name=][::1]:port` or `[name=]unix:/path`. Hosts are numeric (or localhost, or empty/`*` for all). */
export function parseListen(text: string, index: number, flag = '--listen'): ListenSpec {
  const named = /^([A-Za-z0-9_.-]+)=(.*)$/.exec(text);
  const name = named?.[1] ?? `listen${index}`;
  const address = named?.[2] ?? text;
  if (address.startsWith('unix:')) {
    const path = address.slice('unix:'.length);
    if (!path || Buffer.byteLength(path) > 100) throw new UsageError(flag, text, 'expected unix:/path (at most 100 bytes)');
    return { kind: 'unix', name, path: resolve(path), text };
  }
  const match = /^(?:\[([0-9a-fA-F:.]+)\]:|([^:[\]]*):)?(\d+)$/.exec(address);
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(flag, text, 'expected [host:]port, [::1]:port or unix:/path');
  }
  const host = match[1] ?? match[2] ?? '';
  const numeric = host === '' || host === '*' ? '0.0.0.0' : host === 'localhost' ? '127.0.0.1' : host;
  const family = isIP(numeric);
  if (family !== 4 && family !== 6) throw new UsageError(flag, text, 'expected a numeric host address (or localhost)');
  return { kind: 'inet', name, family, address: numeric, port, text };
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
          const [fd, port] = native.listenInet(spec.family, spec.address, spec.port, backlog);
          held.push({ spec, fd, port });
        } else {
          removeStaleSocket(spec.path, spec.text);
          held.push({ spec, fd: native.listenUnix(spec.path, backlog, socketMode), port: null });
        }
      } catch (error) {
        const { code, syscall } = error as NodeJS.ErrnoException;
        if (typeof code === 'string' && typeof syscall === 'string') throw new UsageError('--listen', spec.text, `${syscall}: ${code}`);
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
