/**
 * Names close to `wanted`, best first: those containing it (or contained in it, ignoring
 * case), then the smallest edit distances. Used to say "did you mean" for a mistyped layer.
 */
export function nearNames(wanted: string, candidates: Iterable<string>, count = 3): string[] {
  const w = wanted.toLowerCase();
  const scored = [...new Set(candidates)].map((name) => {
    const n = name.toLowerCase();
    const contains = n.includes(w) || w.includes(n);
    return { name, score: (contains ? 0 : 1000) + editDistance(w, n) };
  });
  scored.sort((a, b) => a.score - b.score || a.name.localeCompare(b.name));
  const limit = Math.max(2, Math.ceil(wanted.length / 2));
  return scored
    .filter((s) => s.score < 1000 || s.score - 1000 <= limit)
    .slice(0, count)
    .map((s) => s.name);
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(
        Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution),
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** " Did you mean: a, b?" or "" when nothing is close. */
export function didYouMean(wanted: string, candidates: Iterable<string>): string {
  const near = nearNames(wanted, candidates);
  return near.length > 0 ? `Did you mean: ${near.join(', ')}?` : '';
}
