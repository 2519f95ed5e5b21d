// Signal names and numbers: Linux's, the same on every architecture Node is built for (x86-64, arm64, arm,
// ppc64le, s390x; alpha, mips, parisc and sparc number their own), written out as Node's os.constants.signals
// lists them (test/core/signames.test.ts holds the two to each other). Not read from node:os, which would be
// loaded for it alone (its module and binding, some 0.2-0.3 MB of every angel's resident memory). The real-time
// signals have no name in either.
import { UsageError } from './errors.js';

const numbers: Readonly<Record<string, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGIOT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
  SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17,
  SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25,
  SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPOLL: 29, SIGPWR: 30, SIGSYS: 31,
};
const names = new Map<number, NodeJS.Signals>();
for (const [name, number] of Object.entries(numbers)) {
  if (!names.has(number)) names.set(number, name as NodeJS.Signals);
}

export type SignalLike = NodeJS.Signals | number;

export function signalNumber(signal: SignalLike): number {
  if (typeof signal === 'number') return signal;
  const number = numbers[signal];
  if (number === undefined) throw new RangeError(`unknown signal ${signal}`);
  return number;
}

export function signalName(number: number): NodeJS.Signals | undefined {
  return names.get(number);
}

/** Parses `SIGTERM`, `TERM`, `term` or a number (`15`). */
export function parseSignal(text: string, flag: string): NodeJS.Signals {
  const trimmed = text.trim();
  const byNumber = /^\d+$/.test(trimmed) ? names.get(Number(trimmed)) : undefined;
  const upper = trimmed.toUpperCase();
  const name = byNumber ?? (upper.startsWith('SIG') ? upper : `SIG${upper}`);
  if (numbers[name] === undefined) {
    throw new UsageError(flag, text, 'expected a signal such as SIGTERM, TERM or 15');
  }
  return name as NodeJS.Signals;
}
