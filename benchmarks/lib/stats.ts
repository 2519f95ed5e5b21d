// How far a ratio of medians could move from sampling alone; the order statistics themselves are src/core/stats.ts,
// which `angel bench` shares.
import { quantile, summarize } from '../../src/core/stats.js';

/** A 95% (by default) bootstrap interval of compare(median(numerator), median(denominator)), a ratio or a
 * difference: how far the figure a table prints could move between runs from sampling alone (load that
 * changes during a run moves it more). Seeded, so one set of samples always gives the same interval. */
function medianInterval(
  numerator: readonly number[],
  denominator: readonly number[],
  compare: (numerator: number, denominator: number) => number,
  { resamples = 2000, confidence = 0.95 } = {},
): [number, number] {
  if (numerator.length === 0 || denominator.length === 0) return [NaN, NaN];
  let seed = 0x9e3779b9;
  const random = (): number => {
    // xorshift32: enough for resampling indices
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const resampledMedian = (samples: readonly number[]): number => {
    const draw = Array.from({ length: samples.length }, () => samples[Math.floor(random() * samples.length)] as number);
    return quantile(draw.sort((a, b) => a - b), 0.5);
  };
  const figures = Array.from({ length: resamples }, () => compare(resampledMedian(numerator), resampledMedian(denominator))).sort((a, b) => a - b);
  const tail = (1 - confidence) / 2;
  return [quantile(figures, tail), quantile(figures, 1 - tail)];
}

/** "1.43x (95% CI 1.37-1.49)". */
export function ratioText(numerator: readonly number[], denominator: readonly number[]): string {
  const value = summarize(numerator).median / summarize(denominator).median;
  const [low, high] = medianInterval(numerator, denominator, (a, b) => a / b);
  return `${value.toFixed(2)}x (95% CI ${low.toFixed(2)}-${high.toFixed(2)})`;
}

const signed = (ms: number): string => `${ms >= 0 ? '+' : ''}${ms.toFixed(1)}`;

/** "+13.8 ms (95% CI +11.0 to +16.4)": median(later) - median(earlier). */
export function differenceText(later: readonly number[], earlier: readonly number[]): string {
  const value = summarize(later).median - summarize(earlier).median;
  const [low, high] = medianInterval(later, earlier, (a, b) => a - b);
  return `${signed(value)} ms (95% CI ${signed(low)} to ${signed(high)})`;
}
