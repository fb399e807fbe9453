/**
 * A decision threshold chosen to maximise F1, with the F1 it reached.
 *
 * @example
 * ```ts
 * const { threshold, f1 }: TunedThreshold = bestF1Threshold([0.9, 0.4, 0.35, 0.1], [1, 1, 0, 0]);
 * ```
 */
export interface TunedThreshold {
  threshold: number;
  /** F1 at that threshold on the data it was tuned on (NaN when there were no positives). */
  f1: number;
}

/**
 * The decision threshold that maximises F1 on the given scores (positive when score >=
 * threshold). Candidates lie midway between consecutive distinct scores, so the choice
 * does not sit on a training example; predicting everything positive uses the lowest score.
 * Of equally good thresholds the highest wins (fewer false alarms). Without positives F1 is
 * undefined and `fallback` is kept.
 *
 * @example
 * ```ts
 * bestF1Threshold([0.9, 0.4, 0.35, 0.1], [1, 1, 0, 0]); // { threshold: 0.375, f1: 1 }
 * ```
 */
export function bestF1Threshold(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  fallback = 0.5,
): TunedThreshold {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if ((labels[i] as number) > 0.5) positives++;
  if (positives === 0) return { threshold: fallback, f1: Number.NaN };
  // One sweep from the highest score down: each distinct score adds its examples to the
  // predicted positives; F1 = 2 tp / (2 tp + fp + fn).
  const order = Array.from({ length: scores.length }, (_, i) => i).sort(
    (a, b) => (scores[b] as number) - (scores[a] as number),
  );
  let best: TunedThreshold = { threshold: fallback, f1: -1 };
  let tp = 0;
  let fp = 0;
  let i = 0;
  while (i < order.length) {
    const here = scores[order[i] as number] as number;
    while (i < order.length && scores[order[i] as number] === here) {
      if ((labels[order[i] as number] as number) > 0.5) tp++;
      else fp++;
      i++;
    }
    const next = i < order.length ? (scores[order[i] as number] as number) : undefined;
    const f1 = (2 * tp) / (2 * tp + fp + (positives - tp));
    if (f1 > best.f1) best = { threshold: next === undefined ? here : (here + next) / 2, f1 };
  }
  return best;
}
