// Writes to the log file that fail (a full disk) drop whole lines; the streak is reported when it starts, then
// at most once a second with the running count (a chatty child on a full disk fails a write per batch), and
// once more when writes recover, or at the close if they never did.
import { counted } from '../core/errors.js';
import type { WarningEvent } from '../core/types.js';
import { now } from './clock.js';

const WARN_INTERVAL_MS = 1000;

/** The lines in data, counting an unended last one (a piece of an over-long line, or the tail at close). */
function countLines(data: Buffer): number {
  let count = 0;
  for (let at = data.indexOf(0x0a); at !== -1; at = data.indexOf(0x0a, at + 1)) count++;
  return data.length > 0 && data[data.length - 1] !== 0x0a ? count + 1 : count;
}

export class FailureStreak {
  /** Since the last write that succeeded: the last errno and the lines dropped. */
  #failing: { code: string; droppedLines: number; warnedAt: number } | null = null;

  constructor(readonly path: string, readonly warn: (warning: WarningEvent) => void) {}

  /** A write failed with `code`, and the lines of `data` were not written. */
  dropped(code: string, data: Buffer): void {
    const at = now();
    const failing = (this.#failing ??= { code, droppedLines: 0, warnedAt: -Infinity });
    failing.droppedLines += countLines(data);
    if (code === failing.code && at - failing.warnedAt < WARN_INTERVAL_MS) return;
    failing.code = code;
    failing.warnedAt = at;
    this.#report(`write failed (${code}), dropping lines`, 'so far', failing);
  }

  /** A write succeeded. */
  recovered(): void {
    if (this.#failing) this.#report(`writes recovered after ${this.#failing.code}`, 'in all', this.#failing);
    this.#failing = null;
  }

  /** The file is closed: the last rate-limited warning may be up to a second behind, so the final count. */
  closed(): void {
    if (this.#failing) this.#report(`writes still failing (${this.#failing.code}) at close`, 'in all', this.#failing);
  }

  #report(what: string, when: string, { code, droppedLines }: { code: string; droppedLines: number }): void {
    this.warn({ message: `log file ${this.path}: ${what}; ${counted(droppedLines, 'line')} dropped ${when}`, code, droppedLines });
  }
}
