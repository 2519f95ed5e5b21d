// Pure: how a generation is stopped (shutdown, reload, overrun, watchdog), as systemd, runit and s6 do: the stop
// signal to every process of it, then SIGCONT so a stopped process can act on it, then SIGKILL at the deadline
// to whatever is still alive, its first process or not. A generation whose first process ended on its own has
// what is left of it stopped the same way: a daemon it left behind gets the grace too.

/** The signals a stop sends at once, in order. */
export function stopSignals(signal: NodeJS.Signals): NodeJS.Signals[] {
  return signal === 'SIGKILL' || signal === 'SIGCONT' ? [signal] : [signal, 'SIGCONT'];
}
