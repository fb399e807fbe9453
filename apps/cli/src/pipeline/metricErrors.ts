import type { ModelReport } from '@graft/heads';

/**
 * How much a key metric would move if the validation split were drawn again: its standard
 * error from the validation counts alone. `graft compare` scores every run on one validation
 * split, so with one seed this is the only noise estimate it has; a verdict does not call a
 * difference an effect when it is within about two of these.
 */

/** Binomial standard error of an accuracy over `n` labelled examples. */
export function accuracyStandardError(accuracy: number, n: number): number {
  if (!(n > 0) || !Number.isFinite(accuracy)) return Number.NaN;
  return Math.sqrt((accuracy * (1 - accuracy)) / n);
}

/**
 * Standard error of a ROC-AUC from the positive and negative counts (Hanley & McNeil 1982,
 * "The meaning and use of the area under a ROC curve", eq. 2).
 */
export function aucStandardError(auc: number, positives: number, negatives: number): number {
  if (!(positives > 0 && negatives > 0) || !Number.isFinite(auc)) return Number.NaN;
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc * auc) / (1 + auc);
  const variance =
    (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) /
    (positives * negatives);
  return Math.sqrt(Math.max(variance, 0));
}

/**
 * The standard error of a task's key metric in an evaluation report: accuracy (binomial),
 * mean ROC-AUC over labels (Hanley-McNeil per label, labels taken as independent). NaN for
 * regression: R² has no count-only estimate, so seeds are its only noise measure.
 */
export function keyMetricStandardError(report: ModelReport, task: string): number {
  const r = report.tasks[task];
  if (!r) return Number.NaN;
  if (r.kind === 'classification') return accuracyStandardError(r.accuracy, r.labelled);
  if (r.kind === 'multiLabel') {
    const errors = r.labels
      .filter((l) => Number.isFinite(l.auc))
      .map((l) => aucStandardError(l.auc, l.positives, l.labelled - l.positives));
    if (errors.length === 0 || errors.some((e) => !Number.isFinite(e))) return Number.NaN;
    return Math.sqrt(errors.reduce((a, e) => a + e * e, 0)) / errors.length;
  }
  return Number.NaN;
}
