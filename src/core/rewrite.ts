// Pure: which signals angel passes on to the child, and --rewrite <from>:<to> (dumb-init's): a signal angel
// receives reaches the child as another. lighttpd's graceful stop is SIGINT and its SIGTERM is immediate,
// while a container runtime stops with SIGTERM: `--rewrite SIGTERM:SIGINT`. A rewrite changes what is
// delivered, never what angel does: SIGTERM still shuts down (and its escalation, SIGCONT then SIGKILL at
// --kill-timeout, is unchanged), SIGHUP still reloads unless --reload signal forwards it.
import { UsageError } from './errors.js';
import { parseSignal } from './signames.js';

/** A graceful shutdown: the same signal to the child's tree, SIGCONT, SIGKILL after --kill-timeout. */
export const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** Forwarded to the child as they come. Never the synchronous ones (SEGV, BUS, FPE, ILL, ABRT, TRAP, SYS),
 * which are angel's own faults, nor SIGCHLD or SIGPIPE, which are not messages for the child (tini, dumb-init). */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGUSR1', 'SIGUSR2', 'SIGQUIT', 'SIGWINCH', 'SIGALRM', 'SIGVTALRM', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU',
  'SIGCONT', 'SIGURG', 'SIGIO', 'SIGPWR', 'SIGXCPU', 'SIGSTKFLT',
];
/** Every signal that can reach the child from outside: SIGHUP with --reload signal, the rest above. */
const PASSED_ON: ReadonlySet<string> = new Set(['SIGHUP', ...SHUTDOWN_SIGNALS, ...FORWARDED_SIGNALS]);

/** Received signal -> the signal the child gets instead. */
export type Rewrites = Readonly<Partial<Record<NodeJS.Signals, NodeJS.Signals>>>;

const EXPECTED = 'expected <from>:<to> signals such as SIGTERM:SIGINT';

/** `SIGTERM:SIGINT`, a list of them, or an object `{ "SIGTERM": "SIGINT" }` (a config file). */
export function rewrites(value: unknown, name: string): Rewrites {
  let pairs: Array<[unknown, unknown]>;
  if (typeof value === 'string' || Array.isArray(value)) {
    pairs = (Array.isArray(value) ? value : [value]).map((spec) => {
      const parts = typeof spec === 'string' ? spec.split(':') : [];
      if (parts.length !== 2) throw new UsageError(name, spec, EXPECTED);
      return parts as [string, string];
    });
  } else if (value && typeof value === 'object') {
    pairs = Object.entries(value);
  } else {
    throw new UsageError(name, value, EXPECTED);
  }
  const result: Partial<Record<NodeJS.Signals, NodeJS.Signals>> = {};
  for (const [fromText, toText] of pairs) {
    if (typeof fromText !== 'string' || (typeof toText !== 'string' && typeof toText !== 'number')) throw new UsageError(name, value, EXPECTED);
    const from = parseSignal(fromText, name);
    const to = parseSignal(String(toText), name);
    if (!PASSED_ON.has(from)) {
      throw new UsageError(name, `${fromText}:${toText}`, `expected a signal angel passes on to rewrite (SIGHUP, SIGINT, SIGTERM, ${FORWARDED_SIGNALS.join(', ')})`);
    }
    if (result[from] !== undefined) throw new UsageError(name, `${fromText}:${toText}`, `expected one rewrite of ${from}`);
    result[from] = to;
  }
  return result;
}

/** SIGUSR1 opens a Node program's inspector, where anyone who can connect evaluates JavaScript in it: angel
 * never delivers it to a child that runs as root for another user, whoever asks (a forward, a --rewrite, the
 * stop or parent-death signal), and that user's signals reach angel through sudo. */
export const INSPECTOR_SIGNAL = 'SIGUSR1';

/** Whether angel may deliver `signal` to its child; `rootChildForUser`: the child runs as root for another
 * user. */
export function deliverable(signal: NodeJS.Signals, rootChildForUser: boolean): boolean {
  return !(rootChildForUser && signal === INSPECTOR_SIGNAL);
}

/** Why angel withholds `signal` from its child (the warning it says instead), or null when it delivers it. */
export function withholding(signal: NodeJS.Signals | undefined, rootChildForUser: boolean): string | null {
  if (signal === undefined || deliverable(signal, rootChildForUser)) return null;
  return `${signal} not forwarded: it would open a Node child's inspector, and the child runs as root for another user`;
}

/** What the child gets for a signal angel received. */
export function rewriteSignal(table: Rewrites, received: NodeJS.Signals): NodeJS.Signals {
  return table[received] ?? received;
}

/** As written on the command line, for `angel check`. */
export function formatRewrites(table: Rewrites): string[] {
  return Object.entries(table).map(([from, to]) => `${from}:${to}`);
}
