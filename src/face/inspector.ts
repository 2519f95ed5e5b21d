// Node's inspector, where anyone who can connect evaluates JavaScript in this process, opens on SIGUSR1
// whenever no JavaScript listener takes that signal, from early in Node's bootstrap on; and sudo relays the
// invoking user's signals to angel running as root. The command (bin/angel) starts Node with the inspector
// pointed at an address no host configures, so from exec on a SIGUSR1 fails to open it; this module, the
// first that `angel`'s entry imports, then takes the signal from the first line of angel on, so Node's
// handler does not even try (and print its failure) any more. `angel run` adds its own meaning to SIGUSR1.
process.on('SIGUSR1', () => {});

/** The flags with which Node cannot open its inspector on SIGUSR1: bin/angel's, or Node's own switch (22.14+). */
const GUARDS = [/^--inspect-port=192\.0\.2\.1:\d+$/, /^--disable-sigusr1$/];

/** Whether this process was started so that SIGUSR1 cannot open an inspector at any moment of its life. */
export function inspectorGuarded(execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.some((arg) => GUARDS.some((guard) => guard.test(arg)));
}
