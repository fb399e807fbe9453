/** Counts of one label's predictions at a threshold (positive when score >= threshold). */
export interface BinaryCounts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface PrecisionRecallF1 {
  precision: number;
  recall: number;
  f1: number;
}

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

/** Mean of the finite values; NaN when there are none (e.g. every label undefined). */
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
