// The clock every timing of angel's reads (a spawn's moments, the sampling pace, a cap's re-read, a streak of
// failed writes): CLOCK_MONOTONIC in milliseconds, meaningful only as a difference. performance.now() reads the
// same clock, but node:perf_hooks (a dozen modules of Node's) would be loaded first, before a launch's first
// spawn; and two clocks of different origins must never meet in one subtraction, so there is this one.
export function now(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return clockMs(seconds, nanoseconds);
}

/** A CLOCK_MONOTONIC reading taken elsewhere (a child's, passed back by the addon), in now()'s milliseconds. */
export const clockMs = (seconds: number, nanoseconds: number): number => seconds * 1e3 + nanoseconds / 1e6;
