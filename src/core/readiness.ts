// Pure: the --ready modes, as text and back. When a child counts as started: at exec, when it writes a line
// to $ANGEL_READY_FD (as s6's notification-fd), when it sends READY=1 to its $NOTIFY_SOCKET (systemd's
// sd_notify), when a TCP connect succeeds, or after a fixed delay.
import { UsageError } from './errors.js';
import { parseDuration } from './limits.js';

export type ReadyMode = { kind: 'exec' } | { kind: 'fd' } | { kind: 'notify' } | { kind: 'tcp'; port: number; host: string } | { kind: 'delay'; ms: number };

export function parseReady(text: string, flag = '--ready'): ReadyMode {
  if (text === 'exec' || text === 'fd' || text === 'notify') return { kind: text };
  const tcp = /^tcp:(?:([^:]+):)?(\d+)$/.exec(text);
  if (tcp && Number(tcp[2]) > 0 && Number(tcp[2]) <= 65535) return { kind: 'tcp', host: tcp[1] ?? '127.0.0.1', port: Number(tcp[2]) };
  const expected = 'expected exec, fd, notify, tcp:PORT or delay:DURATION (ms, or 5s, 1m)';
  if (text.startsWith('delay:')) {
    let ms: number;
    try {
      ms = parseDuration(text.slice('delay:'.length), flag);
    } catch {
      throw new UsageError(flag, text, expected);
    }
    // a Node timer past 2^31-1 ms fires after 1 ms, which would count the child ready at once
    if (ms <= 2 ** 31 - 1) return { kind: 'delay', ms };
  }
  throw new UsageError(flag, text, expected);
}

export function formatReady(mode: ReadyMode): string {
  switch (mode.kind) {
    case 'exec':
    case 'fd':
    case 'notify':
      return mode.kind;
    case 'tcp':
      return `tcp:${mode.host}:${mode.port}`;
    case 'delay':
      return `delay:${mode.ms}`;
  }
}
