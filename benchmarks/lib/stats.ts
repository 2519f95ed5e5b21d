// How far a ratio of medians could move from sampling alone; the order statistics themselves are src/core/stats.ts,
// which `angel bench` shares.
import { quantile, summarize } from '../../src/core/stats.js';

/** A 95% (by default) bootstrap interval of median(numerator) / median(denominator): how far the ratio a
 * table prints could move between runs from sampling alone (load that changes during a run moves it more).
 * Seeded, so one set of samples always gives the same interval. */
function medianRatioInterval(
  numerator: readonly number[],
  denominator: readonly number[],
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
  const ratios = Array.from({ length: resamples }, () => resampledMedian(numerator) / resampledMedian(denominator)).sort((a, b) => a - b);
  const tail = (1 - confidence) / 2;
  return [quantile(ratios, tail), quantile(ratios, 1 - tail)];
}

/** "1.43x (95% CI 1.37-1.49)". */
export function ratioText(numerator: readonly number[], denominator: readonly number[]): string {
  const value = summarize(numerator).median / summarize(denominator).median;
  const [low, high] = medianRatioInterval(numerator, denominator);
  return `${value.toFixed(2)}x (95% CI ${low.toFixed(2)}-${high.toFixed(2)})`;
}
