// Restart histories for the table tests: built from a list of restart times, and read back as one.
import type { RestartHistory } from '../../src/core/backoff.js';

export interface PlainHistory {
  times: number[];
  consecutive: number;
}

/** A frozen history of these restart times (in order), so a decision that mutates its input fails loudly. */
export function historyOf(times: readonly number[], consecutive = times.length): RestartHistory {
  return Object.freeze({ times: Object.freeze([...times]), consecutive });
}

export const plain = (history: RestartHistory): PlainHistory => ({ times: [...history.times], consecutive: history.consecutive });
