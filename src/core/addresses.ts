// Pure: the --listen addresses, `[name=][host:]port`, `[name=][::1]:port` or `[name=]unix:/path`, as angel
// binds them (kernel/sockets.ts) and hands them to every generation as fds 3, 4, … (sd_listen_fds(3)).
import { isIP } from 'node:net';
import { UsageError } from './errors.js';

export type ListenSpec =
  | {
      kind: 'inet'; name: string; family: 4 | 6; address: string; port: number; text: string;
      /** No host given (`8080`, `*:8080`): every address of both families, as systemd's `ListenStream=8080`
       * binds it: `[::]` taking IPv4 too (IPV6_V6ONLY off), or `0.0.0.0` where the kernel has no IPv6. */
      dualStack: boolean;
    }
  | { kind: 'unix'; name: string; path: string; text: string };

/** Parses `[name=][host:]port`, `[name=][::1]:port` or `[name=]unix:/path`. Hosts are numeric (or localhost);
 * none, or `*`, is every address of both families, while `0.0.0.0` is IPv4's alone and `[::]` IPv6's alone. */
export function parseListen(text: string, index: number, flag = '--listen'): ListenSpec {
  const named = /^([A-Za-z0-9_.-]+)=(.*)$/.exec(text);
  const name = named?.[1] ?? `listen${index}`;
  const address = named?.[2] ?? text;
  if (address.startsWith('unix:')) {
    const path = address.slice('unix:'.length);
    if (!path || Buffer.byteLength(path) > 100) throw new UsageError(flag, text, 'expected unix:/path (at most 100 bytes)');
    // as given: a relative path is the kernel's to resolve, against angel's working directory, at the bind
    return { kind: 'unix', name, path, text };
  }
  const match = /^(?:\[([0-9a-fA-F:.]+)\]:|([^:[\]]*):)?(\d+)$/.exec(address);
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(flag, text, 'expected [host:]port, [::1]:port or unix:/path');
  }
  const host = match[1] ?? match[2] ?? '';
  if (host === '' || host === '*') return { kind: 'inet', name, family: 6, address: '::', port, text, dualStack: true };
  const numeric = host === 'localhost' ? '127.0.0.1' : host;
  const family = isIP(numeric);
  if (family !== 4 && family !== 6) throw new UsageError(flag, text, 'expected a numeric host address (or localhost)');
  return { kind: 'inet', name, family, address: numeric, port, text, dualStack: false };
}

/** --metrics: `[host:]port`, `[::1]:port` or `unix:/path`, as --listen takes them, but bound to 127.0.0.1 when
 * no host is given (metrics are for the machine's own scraper unless the address says otherwise). */
export function parseMetrics(text: string, flag = '--metrics'): ListenSpec {
  if (/^[A-Za-z0-9_.-]+=/.test(text)) throw new UsageError(flag, text, 'expected [host:]port, [::1]:port or unix:/path (no name=)');
  try {
    return parseListen(/^\d+$/.test(text) ? `127.0.0.1:${text}` : text, 0, flag);
  } catch (error) {
    // the value as given, not as completed
    if (error instanceof UsageError) throw new UsageError(flag, text, error.expected);
    throw error;
  }
}

/** Whether two addresses name the same socket: --metrics may not take one of the child's held sockets. */
export function sameSocket(a: ListenSpec, b: ListenSpec): boolean {
  if (a.kind === 'unix' || b.kind === 'unix') return a.kind === 'unix' && b.kind === 'unix' && a.path === b.path;
  if (a.port !== b.port || a.port === 0) return false;
  if (a.dualStack || b.dualStack) return true;
  if (a.family !== b.family) return false;
  const any = a.family === 4 ? '0.0.0.0' : '::';
  return a.address === b.address || a.address === any || b.address === any;
}
