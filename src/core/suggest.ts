// Pure: which command a mistyped word was meant to be (`angel stauts 1234`: status). A word is taken for a
// command when it is at most a third of the command's length away from it (at least 1) in edits, counting a
// swap of two neighbours as one (the optimal string alignment distance): `stauts`, `stat` and `chek` are
// typos, while `sh`, `true` or `node` are programs.

/** Insertions, deletions, substitutions and swaps of neighbours that make `a` into `b`. */
export function editDistance(a: string, b: string): number {
  // rows of the table, two back (for the swap), one back and this one
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((previous[j] as number) + 1, (row[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (before[j - 2] as number) + 1);
      row.push(best);
    }
    before = previous;
    previous = row;
  }
  return previous[b.length] as number;
}

/** The candidate `word` is a typo of, the nearest first; null when it is none of them. */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: { candidate: string; distance: number } | null = null;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate);
    if (distance > Math.max(1, Math.floor(candidate.length / 3))) continue;
    if (best === null || distance < best.distance) best = { candidate, distance };
  }
  return best?.candidate ?? null;
}
