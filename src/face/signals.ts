// Signals to angel become requests to the supervisor; nothing acts inside a handler beyond enqueueing.
// The synchronous signals (SEGV, BUS, FPE, ILL, ABRT, TRAP, SYS) are angel's own faults, never forwarded,
// and SIGCHLD is not a message for the child (tini, dumb-init). SIGPIPE stays ignored, as Node sets it.
import type { Supervisor } from '../driver/supervisor.js';

const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGUSR1', 'SIGUSR2', 'SIGQUIT', 'SIGWINCH', 'SIGALRM', 'SIGVTALRM', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU',
  'SIGCONT', 'SIGURG', 'SIGIO', 'SIGPWR', 'SIGXCPU', 'SIGSTKFLT',
];

export interface SignalHooks {
  /** Runs on SIGHUP before the reload; false cancels it (a config file that no longer parses). */
  beforeReload?: () => boolean;
}

/** Installs angel's signal semantics on this process; returns the function that removes them. */
export function installSignalHandlers(supervisor: Supervisor, hooks: SignalHooks = {}): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>();
  handlers.set('SIGHUP', () => {
    if (hooks.beforeReload?.() !== false) supervisor.reload();
  });
  for (const signal of SHUTDOWN_SIGNALS) handlers.set(signal, () => supervisor.shutdown(signal, signal));
  for (const signal of FORWARDED_SIGNALS) {
    handlers.set(signal, () => {
      // with --log-file, SIGUSR1 is angel's (logrotate's postrotate): the child writes into angel's pipe and has
      // nothing to reopen, and forwarding would kill a shell or Python child or open a Node child's inspector
      if (signal === 'SIGUSR1' && supervisor.reopenLog()) return;
      supervisor.forward(signal);
    });
  }
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
