// Pure: what `angel bench --probe` aims at: `tcp:PORT` (a connect), or `http://HOST[:PORT]/PATH` (a GET read to
// its end), on loopback only: the probe counts what a reload costs the program's clients, not a network.
import { UsageError } from './errors.js';

export type ProbeTarget = { kind: 'tcp'; host: string; port: number } | { kind: 'http'; url: URL };

const EXPECTED = 'expected tcp:PORT, tcp:HOST:PORT or http://HOST[:PORT]/PATH with a loopback HOST (127.0.0.1, [::1], localhost)';

const isLoopback = (host: string): boolean => host === 'localhost' || host === '[::1]' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);

export function parseProbe(value: string, flag = '--probe'): ProbeTarget {
  const tcp = /^tcp:(?:(\[::1\]|[^:[\]]+):)?(\d{1,5})$/.exec(value);
  if (tcp) {
    const host = tcp[1] ?? '127.0.0.1';
    const port = Number(tcp[2]);
    if (!isLoopback(host) || port < 1 || port > 65535) throw new UsageError(flag, value, EXPECTED);
    return { kind: 'tcp', host: host === '[::1]' ? '::1' : host, port };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(flag, value, EXPECTED);
  }
  if (url.protocol !== 'http:' || !isLoopback(url.hostname) || url.username !== '' || url.password !== '') {
    throw new UsageError(flag, value, EXPECTED);
  }
  return { kind: 'http', url };
}

export function formatProbe(target: ProbeTarget): string {
  return target.kind === 'tcp' ? `tcp:${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}` : target.url.href;
}
