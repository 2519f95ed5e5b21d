// Signal names and numbers, from Node's own table of this platform's signals.
import { constants } from 'node:os';
import { UsageError } from './errors.js';

const numbers = constants.signals as Readonly<Record<string, number>>;
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
  if (numbers[name] === undefined || name === 'SIGUNUSED') {
    throw new UsageError(flag, text, 'expected a signal such as SIGTERM, TERM or 15');
  }
  return name as NodeJS.Signals;
}
