// Signals to angel become requests to the supervisor. Node runs a listener on the loop, not in the signal
// handler; still, a listener here only asks: SIGHUP's work (re-reading the config, which may be slow or fail)
// is scheduled for the next turn, and SIGHUPs that arrive before it runs are one reload.
// Which signals are passed on, and as what (--rewrite), is core/rewrite.ts's; SIGPIPE stays ignored, as Node
// sets it.
import type { Supervisor } from '../driver/supervisor.js';
import { FORWARDED_SIGNALS, rewriteSignal, SHUTDOWN_SIGNALS } from '../core/rewrite.js';

export interface SignalHooks {
  /** Runs on SIGHUP before the reload; false cancels it (a config file that no longer parses). */
  beforeReload?: () => boolean;
}

/** Installs angel's signal semantics on this process; returns the function that removes them. */
export function installSignalHandlers(supervisor: Supervisor, hooks: SignalHooks = {}): () => void {
  // read at each signal: a config re-read on SIGHUP may change the rewrites
  const delivered = (signal: NodeJS.Signals): NodeJS.Signals => rewriteSignal(supervisor.options.rewrite, signal);
  const handlers = new Map<NodeJS.Signals, () => void>();
  let reloadScheduled = false;
  const reloadNow = (): void => {
    reloadScheduled = false;
    if (hooks.beforeReload?.() !== false) supervisor.reload(delivered('SIGHUP'));
  };
  handlers.set('SIGHUP', () => {
    if (reloadScheduled) return;
    reloadScheduled = true;
    setImmediate(reloadNow);
  });
  // the cause stays the signal angel received; the child gets what it is rewritten to
  for (const signal of SHUTDOWN_SIGNALS) handlers.set(signal, () => supervisor.shutdown(delivered(signal), signal));
  for (const signal of FORWARDED_SIGNALS) {
    handlers.set(signal, () => {
      // with --log-file, SIGUSR1 is angel's (logrotate's postrotate): the child writes into angel's pipe and has
      // nothing to reopen, and forwarding would kill a shell or Python child or open a Node child's inspector
      if (signal === 'SIGUSR1' && supervisor.reopenLog()) return;
      supervisor.forward(delivered(signal));
    });
  }
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
