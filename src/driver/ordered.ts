// angel's events in the order they happened, after the effects that caused them: a restart's spawn does not wait
// for the exit's listeners (the event log's serialization was a fifth of angel's share after an idle CPU), and a
// listener that sees `exit` sees the successor already spawned.
import { EventEmitter } from 'node:events';
import type { AngelEvents } from '../core/types.js';

export class OrderedEmitter extends EventEmitter<AngelEvents> {
  /** Events emitted during a step, emitted once it has run. */
  #held: Array<{ name: keyof AngelEvents; payload: unknown[] }> | null = null;

  /** Runs `step`, holding what it emits until it is done; a step run inside another is part of it (what it
   * emits waits for the outer step's end). */
  protected held(step: () => void): void {
    if (this.#held !== null) return step();
    this.#held = [];
    try {
      step();
    } finally {
      const held = this.#held;
      this.#held = null;
      for (const { name, payload } of held) EventEmitter.prototype.emit.call(this, name, ...payload);
    }
  }

  /** Held while a step runs (see held); emitted at once otherwise. */
  override emit<K extends keyof AngelEvents>(name: K, ...payload: K extends keyof AngelEvents ? AngelEvents[K] : never): boolean {
    if (this.#held === null) return super.emit(name, ...payload);
    this.#held.push({ name, payload });
    return this.listenerCount(name) > 0;
  }
}
