// Pure: order statistics over samples, shared by `angel bench` and `npm run bench`, and the outlier test
// hyperfine uses (the modified Z-score of Iglewicz and Hoaglin: distance from the median in median absolute
// deviations, which one wild sample cannot drag the way it drags a mean and a standard deviation).
export interface Summary {
  samples: number;
  mean: number;
  /** The sample standard deviation (n - 1); 0 for a single sample. */
  sd: number;
  median: number;
  p90: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
}

/** Nearest-rank quantile of sorted samples. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, n);
  const squares = sorted.reduce((sum, value) => sum + (value - mean) ** 2, 0);
  return {
    samples: n,
    mean,
    sd: n > 1 ? Math.sqrt(squares / (n - 1)) : 0,
    median: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    min: sorted[0] ?? NaN,
    max: sorted[n - 1] ?? NaN,
  };
}

/** The median as hyperfine (and statistics) has it: the middle value, or the mean of the two middle ones of an
 * even count (summarize's is the nearest rank, a value that was measured). */
export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** hyperfine's threshold on the modified Z-score: far enough out that only real interference crosses it. */
const OUTLIER_Z = 14;

/** The indices of the samples whose modified Z-score, 0.6745 (x - median) / MAD, passes the threshold. With
 * a MAD of 0 (most samples equal), nothing is called an outlier: there is no spread to measure against. */
export function outliers(samples: readonly number[]): number[] {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  const mad = quantile(samples.map((value) => Math.abs(value - median)).sort((a, b) => a - b), 0.5);
  if (!(mad > 0)) return [];
  return samples.flatMap((value, index) => (Math.abs((0.6745 * (value - median)) / mad) > OUTLIER_Z ? [index] : []));
}
