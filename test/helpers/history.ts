// Restart histories for the table tests: built from a list of restart times, and read back as one, since the
// history's queue is compared by what it holds, not by how its entries happen to be linked.
import { RecentTimes, type RestartHistory } from '../../src/core/backoff.js';

export interface PlainHistory {
  times: number[];
  consecutive: number;
}

/** A frozen history of these restart times (in order), so a decision that mutates its input fails loudly. */
export function historyOf(times: readonly number[], consecutive = times.length): RestartHistory {
  const recent = RecentTimes.of(times);
  Object.freeze(recent);
  return Object.freeze({ times: recent, consecutive });
}

export const plain = (history: RestartHistory): PlainHistory => ({ times: history.times.toArray(), consecutive: history.consecutive });
