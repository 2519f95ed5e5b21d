// Pure: what one memory sample of a generation means. A generation the lifecycle watches is over its cap
// after `samples` consecutive samples above it (start-up spikes pass); one that is already being stopped for
// an overrun may use its grace period to exit cleanly, but not to take the machine down with it: past
// HARD_CEILING_FACTOR x the cap it is SIGKILLed at once. Everything else (a generation replaced for a reload,
// or one whose stop was asked for by a shutdown) is not judged at all.
import { HARD_CEILING_FACTOR } from './memory.js';

export interface OverrunRules {
  capBytes: number;
  /** Consecutive samples over the cap that make an overrun (--overrun-samples). */
  samples: number;
}

/** Where the generation stands, as the lifecycle sees it (lifecycle.ts: watchOf). */
export type Watch = 'watched' | 'stopping-for-overrun' | 'not-judged';

type Verdict = 'within' | 'overrun' | 'hard-ceiling';

export interface Judgement {
  /** Consecutive samples over the cap so far, carried to the next sample. */
  samplesOver: number;
  verdict: Verdict;
}

export function judgeSample(rules: OverrunRules, watch: Watch, samplesOver: number, rssBytes: number): Judgement {
  switch (watch) {
    case 'not-judged':
      return { samplesOver: 0, verdict: 'within' };
    case 'stopping-for-overrun':
      return { samplesOver, verdict: rssBytes > rules.capBytes * HARD_CEILING_FACTOR ? 'hard-ceiling' : 'within' };
    case 'watched': {
      const over = rssBytes > rules.capBytes ? samplesOver + 1 : 0;
      return { samplesOver: over, verdict: over >= rules.samples ? 'overrun' : 'within' };
    }
  }
}
