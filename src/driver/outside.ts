// What angel does with the world beside its child, for the face: the sockets it serves on itself (the control
// socket, --metrics), the report it leaves at exit (the termination log), its own service manager (sd_notify),
// another angel found by its pid (read as the user angel acts for), angel bench's scratch directory and exports
// (with the user's rights), and where the package is installed (its version). Each is one operation here, carried
// out by kernel/: the face reaches the kernel through the driver alone, and a unix socket angel serves on is
// bound, and removed, in one place.
import { closeSync, constants, writeSync } from 'node:fs';
import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { ListenSpec } from '../core/addresses.js';
import { tellManager } from '../kernel/notify.js';
import { AT_FDCWD, openRegularFile, refusePseudoFilesystem } from '../kernel/safeopen.js';
import { serveLine } from '../kernel/lineserver.js';
import { bindUnix, removeBound } from '../kernel/sockets.js';
import type { FsRights } from '../kernel/syscalls.js';

export { checkWritable, lastLines, makeScratch, writeExport } from '../kernel/benchfiles.js';
export { becomeUser } from '../kernel/identity.js';
export { packageRoot } from '../kernel/packageroot.js';
export { controlSocketOf, processOwner } from '../kernel/runtime.js';
export type { FsRights } from '../kernel/syscalls.js';

/** A server angel listens with, until closed. */
export interface Endpoint {
  /** host:port, [v6]:port or unix:path, as bound. */
  readonly address: string;
  /** Closes the server and its connections, and removes its socket file if the path still holds that one. */
  close(): void;
}

/** Listens on `spec` with the server `makeServer` gives. A unix socket is bound by angel now (mode from the umask
 * at bind; with `rights`, as the user angel acts for, so root's rights are never lent), replacing only a stale
 * socket of a dead angel; it listens from its bind, and a connection waits in its backlog until Node's server,
 * made a turn later (after the first generation's spawn: node:net and node:http load then, not on a launch's
 * path), accepts it. An address is Node's to bind (without a host: both families, or IPv4 alone where the kernel
 * has no IPv6, as --listen's rule). `what` names it in errors. The server is unref'd: it never holds angel open. */
export function listenOn(makeServer: () => Server, spec: ListenSpec, mode: number, what: string, rights: FsRights | null): Promise<Endpoint> {
  return new Promise((resolveEndpoint, reject) => {
    // a bind that fails rejects, as Node's listen errors do
    const bound = spec.kind === 'unix' ? bindUnix(spec.path, mode, what, rights) : null;
    setImmediate(() => {
      const server = makeServer();
      const close = (): void => {
        server.close();
        (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
        removeBound(bound?.bound ?? null);
      };
      server.once('error', (error) => {
        removeBound(bound?.bound ?? null);
        reject(error);
      });
      const listening = (): void => {
        server.removeAllListeners('error');
        server.unref();
        if (spec.kind === 'unix') {
          resolveEndpoint({ address: `unix:${spec.path}`, close });
          return;
        }
        const { address, family, port } = server.address() as AddressInfo;
        resolveEndpoint({ address: family === 'IPv6' ? `[${address}]:${port}` : `${address}:${port}`, close });
      };
      if (bound) server.listen({ fd: bound.fd }, listening);
      else if (spec.kind === 'inet' && spec.dualStack) server.listen({ port: spec.port }, listening);
      else if (spec.kind === 'inet') server.listen({ host: spec.address, port: spec.port, ipv6Only: spec.family === 6 }, listening);
    });
  });
}

/** A unix socket that answers whoever connects with one line, `line()`, and closes the connection (the control
 * socket): bound now as listenOn binds (mode from the umask at bind; with `rights`, as that user), and served by
 * the addon, so that no node:net is loaded for it. A failed accept (EMFILE) is told to `onError` by its errno
 * name. Throws the bind's error. */
export function answerOnUnix(path: string, mode: number, what: string, rights: FsRights | null, line: () => string, onError: (code: string) => void): Endpoint {
  const bound = bindUnix(path, mode, what, rights);
  const server = serveLine(bound.fd, line, onError);
  return {
    address: `unix:${path}`,
    close() {
      server.close();
      removeBound(bound.bound);
    },
  };
}

/** Writes `text` as the whole of the regular file at `path` (created when `create`), with `rights`, and never
 * into a kernel file (/proc, /sys, a device): a report angel leaves. Throws the errno's error. */
export function writeReport(path: string, text: string, create: boolean, rights: FsRights | null): void {
  const flags = constants.O_WRONLY | constants.O_TRUNC | (create ? constants.O_CREAT : 0);
  const fd = openRegularFile(AT_FDCWD, resolve(path), flags, 0o644, path, false, rights).fd;
  try {
    refusePseudoFilesystem(fd, path);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** One sd_notify datagram to angel's own service manager, at `address` (its NOTIFY_SOCKET). */
export function notifyManager(address: string, text: string): void {
  tellManager(address, text);
}
