import { meanDefined, precisionRecallF1 } from './binaryMetrics';

/**
 * Precision, recall, F1 and support of one class.
 *
 * @example
 * ```ts
 * const [red]: ClassMetrics[] = classificationMetrics([[5, 1], [2, 7]]).perClass;
 * red?.support; // 6
 * ```
 */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Labelled examples of this class. */
  support: number;
}

/**
 * Accuracy, macro-F1, the confusion matrix and per-class numbers of a classification task.
 *
 * @example
 * ```ts
 * const m: ClassificationMetrics = classificationMetrics([[5, 1], [2, 7]]);
 * console.log(m.accuracy, m.macroF1, m.perClass[1]?.recall); // 0.8, ..., 7/9
 * ```
 */
export interface ClassificationMetrics {
  accuracy: number;
  /**
   * Mean F1 over the classes that occur in the targets or the predictions. A class that
   * does neither carries no information and is left out (scikit-learn would count it as 0).
   */
  macroF1: number;
  /** `confusion[true][predicted]`. */
  confusion: number[][];
  perClass: ClassMetrics[];
  labelled: number;
}

/**
 * `confusion[true][predicted]` counts over the given examples.
 *
 * @example
 * ```ts
 * confusionMatrix([0, 1, 1], [0, 1, 0], 2); // [[1, 1], [0, 1]]: confusion[true][predicted]
 * ```
 */
export function confusionMatrix(
  predicted: ArrayLike<number>,
  actual: ArrayLike<number>,
  classes: number,
): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < predicted.length; i++) {
    const row = m[actual[i] as number] as number[];
    const p = predicted[i] as number;
    row[p] = (row[p] as number) + 1;
  }
  return m;
}

/**
 * Accuracy, macro-F1 and per-class precision/recall/F1 from a confusion matrix.
 *
 * @example
 * ```ts
 * const m = classificationMetrics(confusionMatrix([0, 1, 1, 0], [0, 1, 0, 0], 2));
 * m.accuracy; // 0.75
 * ```
 */
export function classificationMetrics(confusion: number[][]): ClassificationMetrics {
  const k = confusion.length;
  let correct = 0;
  let total = 0;
  const perClass: ClassMetrics[] = [];
  const f1s: number[] = [];
  for (let c = 0; c < k; c++) {
    const row = confusion[c] as number[];
    const tp = row[c] as number;
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((s, r) => s + (r[c] as number), 0);
    correct += tp;
    total += support;
    const prf = precisionRecallF1({ tp, fp: predicted - tp, fn: support - tp, tn: 0 });
    perClass.push({ ...prf, support });
    if (support > 0 || predicted > 0) f1s.push(prf.f1);
  }
  return {
    accuracy: total > 0 ? correct / total : Number.NaN,
    macroF1: meanDefined(f1s),
    confusion,
    perClass,
    labelled: total,
  };
}
