// Pure: the --listen addresses, `[name=][host:]port`, `[name=][::1]:port` or `[name=]unix:/path`, as angel
// binds them (kernel/sockets.ts) and hands them to every generation as fds 3, 4, … (sd_listen_fds(3)).
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { UsageError } from './errors.js';

export type ListenSpec =
  | { kind: 'inet'; name: string; family: 4 | 6; address: string; port: number; text: string }
  | { kind: 'unix'; name: string; path: string; text: string };

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
