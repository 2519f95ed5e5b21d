// Order statistics over samples (ms), and how far a ratio of medians could move from sampling alone.
export interface Summary {
  samples: number;
  median: number;
  p90: number;
  p95: number;
  p99: number;
  mean: number;
}

/** Nearest-rank quantile of sorted samples. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    median: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    mean: sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length),
  };
}

/** A 95% (by default) bootstrap interval of median(numerator) / median(denominator): how far the ratio a
 * table prints could move between runs from sampling alone (load that changes during a run moves it more).
 * Seeded, so one set of samples always gives the same interval. */
export function medianRatioInterval(
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
