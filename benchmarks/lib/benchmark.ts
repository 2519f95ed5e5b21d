// What a benchmark is to the runner (run.ts), in lib/ so that neither imports the other.
import type { Table } from './table.js';

interface BenchOptions {
  /** Fewer samples and shorter windows: a check that the benchmarks work, not a result to quote. */
  quick: boolean;
}

export interface Benchmark {
  name: string;
  run(options: BenchOptions): Promise<Table>;
}
