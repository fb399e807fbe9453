/**
 * Counts of one label's predictions at a threshold (positive when score >= threshold).
 *
 * @example
 * ```ts
 * const c: BinaryCounts = countsAt([0.9, 0.2, 0.7], [1, 0, 0], 0.5); // { tp: 1, fp: 1, fn: 0, tn: 1 }
 * ```
 */
export interface BinaryCounts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/**
 * Precision, recall and F1 of one label at one threshold.
 *
 * @example
 * ```ts
 * const { precision, recall, f1 }: PrecisionRecallF1 = precisionRecallF1({ tp: 8, fp: 2, fn: 4, tn: 86 });
 * ```
 */
export interface PrecisionRecallF1 {
  precision: number;
  recall: number;
  f1: number;
}

/**
 * True/false positives and negatives of one label's scores at `threshold` (an entry is
 * predicted positive when its score >= threshold; a label > 0.5 is positive).
 *
 * @example
 * ```ts
 * countsAt([0.9, 0.2, 0.7], [1, 0, 0], 0.5); // { tp: 1, fp: 1, fn: 0, tn: 1 }
 * ```
 */
export function countsAt(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
): BinaryCounts {
  const c: BinaryCounts = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (let i = 0; i < scores.length; i++) {
    const predicted = (scores[i] as number) >= threshold;
    const actual = (labels[i] as number) > 0.5;
    if (predicted && actual) c.tp++;
    else if (predicted) c.fp++;
    else if (actual) c.fn++;
    else c.tn++;
  }
  return c;
}

/**
 * Precision, recall and F1 from counts. A ratio with nothing to count (no predicted
 * positives for precision, no actual positives for recall) is 0, as scikit-learn's default
 * `zero_division`; F1 is 0 when precision and recall both are.
 *
 * @example
 * ```ts
 * precisionRecallF1({ tp: 8, fp: 2, fn: 4, tn: 86 }); // { precision: 0.8, recall: 0.667, f1: 0.727 }
 * ```
 */
export function precisionRecallF1(c: BinaryCounts): PrecisionRecallF1 {
  const precision = c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : 0;
  const recall = c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/**
 * Area under the ROC curve: the chance that a random positive scores above a random
 * negative, ties counting half (the Mann-Whitney U statistic with average ranks). NaN when
 * the labels hold only one class: the curve is undefined.
 *
 * @example
 * ```ts
 * rocAuc([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0]); // 0.75
 * ```
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = sortedIndices(scores, 'ascending');
  let positives = 0;
  let rankSum = 0;
  let i = 0;
  while (i < order.length) {
    let j = i;
    const s = scores[order[i] as number] as number;
    while (j + 1 < order.length && scores[order[j + 1] as number] === s) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if ((labels[order[k] as number] as number) > 0.5) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Average precision as scikit-learn computes it: sum over thresholds (distinct scores, high
 * to low) of (R_k - R_{k-1}) P_k, tied scores entering together. NaN with no positives.
 *
 * @example
 * ```ts
 * averagePrecision([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0]); // (1 + 2/3) / 2 = 0.833...
 * ```
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = sortedIndices(scores, 'descending');
  let total = 0;
  for (let i = 0; i < labels.length; i++) if ((labels[i] as number) > 0.5) total++;
  if (total === 0) return Number.NaN;
  let tp = 0;
  let seen = 0;
  let previousRecall = 0;
  let ap = 0;
  let i = 0;
  while (i < order.length) {
    const s = scores[order[i] as number] as number;
    while (i < order.length && scores[order[i] as number] === s) {
      if ((labels[order[i] as number] as number) > 0.5) tp++;
      seen++;
      i++;
    }
    const recall = tp / total;
    ap += (recall - previousRecall) * (tp / seen);
    previousRecall = recall;
  }
  return ap;
}

/**
 * Mean of the finite values; NaN when there are none (e.g. every label undefined).
 *
 * @example
 * ```ts
 * meanDefined([0.8, Number.NaN, 0.6]); // 0.7
 * ```
 */
export function meanDefined(values: readonly number[]): number {
  const defined = values.filter(Number.isFinite);
  return defined.length > 0 ? defined.reduce((a, b) => a + b, 0) / defined.length : Number.NaN;
}

function sortedIndices(scores: ArrayLike<number>, direction: 'ascending' | 'descending'): number[] {
  const order = Array.from({ length: scores.length }, (_, i) => i);
  const sign = direction === 'ascending' ? 1 : -1;
  order.sort((a, b) => sign * ((scores[a] as number) - (scores[b] as number)));
  return order;
}
