// Samples several ways of doing one thing in alternating rounds, so that a burst of load on a shared machine
// (2 cores, other work beside the benchmark) lands on every row alike instead of skewing one ratio.
import { summarize } from '../../src/core/stats.js';
import type { Row } from './table.js';

export interface Contender {
  name: string;
  /** Takes `count` samples (ms) in a row. */
  measure(count: number): Promise<number[]> | number[];
}

export interface RoundsOptions {
  /** Samples kept per contender. */
  samples: number;
  rounds: number;
  /** Samples taken and discarded per contender before the first round. */
  warmup: number;
}

export interface Sampled {
  name: string;
  samples: number[];
  error?: string;
}

/** Warms every contender up, then takes samples/rounds from each in turn, rotating who goes first. A
 * contender that throws keeps its error and is skipped from then on; the others go on. */
export async function sampleInRounds(contenders: readonly Contender[], options: RoundsOptions): Promise<Sampled[]> {
  const results: Sampled[] = contenders.map((contender) => ({ name: contender.name, samples: [] }));
  const attempt = async (index: number, count: number, keep: boolean): Promise<void> => {
    const result = results[index]!;
    if (result.error !== undefined || count <= 0) return;
    try {
      const samples = await contenders[index]!.measure(count);
      if (keep) result.samples.push(...samples);
    } catch (error) {
      result.error = (error as Error).message;
    }
  };
  for (let i = 0; i < contenders.length; i++) await attempt(i, options.warmup, false);
  await inRounds(contenders.length, options.rounds, options.samples, (index, count) => attempt(index, count, true));
  return results;
}

/** The schedule: `rounds` rounds, each giving every contender in turn its share of `total`, the order rotated
 * so that each takes every place once over as many rounds as there are contenders. For benchmarks whose
 * contenders return more than a list of samples (restart.ts). */
export async function inRounds(contenders: number, rounds: number, total: number, take: (index: number, count: number) => Promise<void> | void): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const count = Math.floor(total / rounds) + (round < total % rounds ? 1 : 0);
    for (let k = 0; k < contenders; k++) await take((round + k) % contenders, count);
  }
}

export function toRow(sampled: Sampled, name = sampled.name): Row {
  return sampled.error !== undefined ? { name, error: sampled.error } : { name, summary: summarize(sampled.samples) };
}
