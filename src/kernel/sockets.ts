// --listen: sockets bound once by angel, kept for its whole life, and handed to every generation as fds
// 3, 4, … with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES (sd_listen_fds(3)). A connection that arrives
// while no child runs waits in the backlog instead of being refused. A unix socket's path is the user's: when
// angel is root for someone else it is bound and removed with that user's filesystem rights, its mode comes
// from the umask at bind, and at the end only the very socket angel bound is removed.
import { closeSync, constants } from 'node:fs';
import type { ListenSpec } from '../core/addresses.js';
import { errorCode } from '../core/errnos.js';
import { UsageError } from '../core/errors.js';
import { AT_FDCWD } from './safeopen.js';
import { listenInet, listenUnix, lstatAt, unlinkAt, type FsRights } from './syscalls.js';

const DEFAULT_BACKLOG = 511;

/** A socket file angel bound: which file it is (device and inode), and with whose rights it is removed. */
export interface BoundPath {
  readonly path: string;
  readonly dev: bigint;
  readonly ino: bigint;
  readonly rights: FsRights | null;
}

export interface HeldSocket {
  readonly spec: ListenSpec;
  readonly fd: number;
  /** The port actually bound (differs from the spec's when it asked for port 0). */
  readonly port: number | null;
  /** A unix socket's file, removed at the end. */
  readonly bound: BoundPath | null;
}

const isSocket = (mode: number): boolean => (mode & constants.S_IFMT) === constants.S_IFSOCK;

/** Removes a socket file left at `path` by an earlier angel (or its earlier run); nothing at all is fine.
 * Anything but a socket is not angel's to remove: a UsageError naming `flag`. */
function removeStaleSocket(path: string, flag: string, rights: FsRights | null = null): void {
  const entry = lstatAt(AT_FDCWD, path, rights);
  if (entry === null) return;
  if (!isSocket(entry[0])) throw new UsageError(flag, path, 'expected a path that is free or a stale socket, found a file');
  unlinkAt(AT_FDCWD, path, rights);
}

/** Binds a unix socket at `path` (a stale one removed first), its mode from the umask at bind; with `rights`,
 * as that user. Returns the listening fd and the file it made. */
export function bindUnix(path: string, mode: number, flag: string, rights: FsRights | null, backlog = DEFAULT_BACKLOG): { fd: number; bound: BoundPath } {
  removeStaleSocket(path, flag, rights);
  const fd = listenUnix(path, backlog, mode, rights);
  const entry = lstatAt(AT_FDCWD, path, rights);
  return { fd, bound: { path, dev: entry?.[1] ?? -1n, ino: entry?.[2] ?? -1n, rights } };
}

/** Removes the socket file angel bound, if the path still holds that very file; never another at its name. */
export function removeBound(bound: BoundPath | null): void {
  if (bound === null) return;
  try {
    const entry = lstatAt(AT_FDCWD, bound.path, bound.rights);
    if (entry !== null && isSocket(entry[0]) && entry[1] === bound.dev && entry[2] === bound.ino) unlinkAt(AT_FDCWD, bound.path, bound.rights);
  } catch {
    // gone, or no longer reachable: nothing of angel's to remove
  }
}

/** What the kernel answers where it has no IPv6: no such address family (booted with ipv6.disable=1, built
 * without it, or a seccomp profile refusing it), or no IPv6 address to bind. IPv6 switched off by sysctl
 * (disable_ipv6) still binds `[::]` and takes IPv4 through it, as a container without IPv6 does. */
const NO_IPV6: ReadonlySet<string> = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL']);

/** Every address of both families on `port`: `[::]` taking IPv4 as mapped addresses, or `0.0.0.0` where the
 * kernel has no IPv6. */
function listenAnyFamily(port: number, backlog: number): [number, number] {
  try {
    return listenInet(6, '::', port, backlog, false);
  } catch (error) {
    if (!NO_IPV6.has(String((error as NodeJS.ErrnoException).code))) throw error;
    return listenInet(4, '0.0.0.0', port, backlog, true);
  }
}

/** Binds every spec; on any failure closes those already bound and throws a UsageError naming the address and
 * errno. A unix socket is bound with `rights` when angel is root for another user. */
export function bindAll(specs: readonly ListenSpec[], socketMode: number, rights: FsRights | null = null, backlog = DEFAULT_BACKLOG): HeldSocket[] {
  const held: HeldSocket[] = [];
  try {
    for (const spec of specs) {
      try {
        if (spec.kind === 'inet') {
          const [fd, port] = spec.dualStack ? listenAnyFamily(spec.port, backlog) : listenInet(spec.family, spec.address, spec.port, backlog, true);
          held.push({ spec, fd, port, bound: null });
        } else {
          const { fd, bound } = bindUnix(spec.path, socketMode, '--listen', rights, backlog);
          held.push({ spec, fd, port: null, bound });
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
    removeBound(socket.bound);
  }
}

/** The environment that tells a child about its sockets (LISTEN_PID is written in the fork path). */
export function listenEnvironment(held: readonly HeldSocket[]): Record<string, string> {
  if (held.length === 0) return {};
  return { LISTEN_FDS: String(held.length), LISTEN_FDNAMES: held.map((socket) => socket.spec.name).join(':') };
}
