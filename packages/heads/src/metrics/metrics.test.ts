import { describe, expect, it } from 'vitest';
import {
  averagePrecision,
  countsAt,
  meanDefined,
  precisionRecallF1,
  rocAuc,
} from './binaryMetrics';
import { classificationMetrics, confusionMatrix } from './classificationMetrics';
import { regressionMetrics } from './regressionMetrics';
import { bestF1Threshold } from './thresholds';

/** Every metric against cases worked out by hand (and, where noted, scikit-learn's values). */
describe('binary metrics', () => {
  const scores = [0.9, 0.8, 0.7, 0.6, 0.55, 0.4, 0.3, 0.2];
  const labels = [1, 1, 0, 1, 0, 0, 1, 0];

  it('precision, recall, F1 at a threshold (score >= threshold is positive)', () => {
    // >= 0.6: predicted 1,1,1,1 for the first four: tp 3, fp 1; fn 1 (0.3), tn 3.
    const c = countsAt(scores, labels, 0.6);
    expect(c).toEqual({ tp: 3, fp: 1, fn: 1, tn: 3 });
    const m = precisionRecallF1(c);
    expect(m.precision).toBeCloseTo(0.75, 12);
    expect(m.recall).toBeCloseTo(0.75, 12);
    expect(m.f1).toBeCloseTo(0.75, 12);
  });

  it('nothing predicted positive or no positives: ratios are 0, not NaN (sklearn zero_division=0)', () => {
    expect(precisionRecallF1(countsAt([0.1, 0.2], [1, 0], 0.5))).toEqual({
      precision: 0,
      recall: 0,
      f1: 0,
    });
    expect(precisionRecallF1(countsAt([0.1, 0.2], [0, 0], 0.5))).toEqual({
      precision: 0,
      recall: 0,
      f1: 0,
    });
    // All positive and all predicted positive: perfect.
    expect(precisionRecallF1(countsAt([0.6, 0.9], [1, 1], 0.5))).toEqual({
      precision: 1,
      recall: 1,
      f1: 1,
    });
  });

  it('ROC-AUC: pairs ordered correctly / all pairs; ties count half', () => {
    // Positives 0.9, 0.8, 0.6, 0.3; negatives 0.7, 0.55, 0.4, 0.2. Pairs won:
    // 0.9: 4, 0.8: 4, 0.6: 3 (> 0.55, 0.4, 0.2), 0.3: 1 (> 0.2) = 12 of 16.
    expect(rocAuc(scores, labels)).toBeCloseTo(12 / 16, 12);
    // One tie between a positive and a negative: half a pair. Positives {0.5, 0.8}, negatives {0.5, 0.1}:
    // 0.8 beats both (2), 0.5 beats 0.1 (1) and ties 0.5 (0.5): 3.5 / 4.
    expect(rocAuc([0.5, 0.8, 0.5, 0.1], [1, 1, 0, 0])).toBeCloseTo(3.5 / 4, 12);
    // Everything tied: 0.5.
    expect(rocAuc([0.3, 0.3, 0.3], [1, 0, 1])).toBeCloseTo(0.5, 12);
  });

  it('ROC-AUC is undefined (NaN) with all-positive or all-negative labels', () => {
    expect(rocAuc([0.2, 0.9], [1, 1])).toBeNaN();
    expect(rocAuc([0.2, 0.9], [0, 0])).toBeNaN();
  });

  it('average precision: sum of (R_k - R_k-1) P_k, tied scores entering together', () => {
    // Ranks: 1(+) P=1 R=.25; 2(+) P=1 R=.5; 3(-); 4(+) P=.75 R=.75; 5(-); 6(-); 7(+) P=4/7 R=1.
    const expected = 0.25 * 1 + 0.25 * 1 + 0.25 * 0.75 + 0.25 * (4 / 7);
    expect(averagePrecision(scores, labels)).toBeCloseTo(expected, 12);
    // scikit-learn: average_precision_score([1,0,1,0],[0.8,0.8,0.4,0.1]) = 0.5*0.5 + 0.5*(2/3).
    expect(averagePrecision([0.8, 0.8, 0.4, 0.1], [1, 0, 1, 0])).toBeCloseTo(0.25 + 1 / 3, 12);
    // All positive: 1. No positives: undefined.
    expect(averagePrecision([0.3, 0.1], [1, 1])).toBeCloseTo(1, 12);
    expect(averagePrecision([0.3, 0.1], [0, 0])).toBeNaN();
  });

  it('means skip undefined values', () => {
    expect(meanDefined([1, Number.NaN, 0.5])).toBeCloseTo(0.75, 12);
    expect(meanDefined([Number.NaN])).toBeNaN();
  });
});

describe('decision thresholds tuned for F1', () => {
  it('picks the midpoint that maximises F1', () => {
    // Predicting >= 0.35 (between 0.4 and 0.3) catches all four positives with 3 false
    // alarms: F1 = 8/11 = 0.727; >= 0.65 gives tp 2, fp 0: F1 = 4/6 = 0.667; best is
    // >= 0.575 (between 0.6 and 0.55): tp 3, fp 1, fn 1: 0.75.
    const t = bestF1Threshold([0.9, 0.8, 0.7, 0.6, 0.55, 0.4, 0.3, 0.2], [1, 1, 0, 1, 0, 0, 1, 0]);
    expect(t.threshold).toBeCloseTo(0.575, 12);
    expect(t.f1).toBeCloseTo(0.75, 12);
  });

  it('keeps tied scores together, prefers the higher of equal thresholds, falls back without positives', () => {
    const t = bestF1Threshold([0.7, 0.7, 0.2], [1, 0, 0]);
    // Only {0.7, 0.7} or everything: F1 2/3 vs 1/2.
    expect(t.threshold).toBeCloseTo(0.45, 12);
    expect(t.f1).toBeCloseTo(2 / 3, 12);
    // All positive: the lowest score, so everything is predicted positive.
    expect(bestF1Threshold([0.2, 0.6], [1, 1])).toEqual({ threshold: 0.2, f1: 1 });
    expect(bestF1Threshold([0.2, 0.6], [0, 0], 0.5)).toEqual({ threshold: 0.5, f1: Number.NaN });
  });
});

describe('classification metrics', () => {
  it('accuracy, per-class and macro F1 from the confusion matrix', () => {
    const actual = [0, 0, 0, 1, 1, 2];
    const predicted = [0, 0, 1, 1, 2, 2];
    const m = classificationMetrics(confusionMatrix(predicted, actual, 3));
    expect(m.confusion).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    // F1: class 0 P 1 R 2/3 -> 0.8; class 1 P 1/2 R 1/2 -> 0.5; class 2 P 1/2 R 1 -> 2/3.
    expect(m.perClass.map((c) => c.f1)).toEqual(
      [0.8, 0.5, 2 / 3].map((v) => expect.closeTo(v, 12)),
    );
    expect(m.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12);
    expect(m.perClass.map((c) => c.support)).toEqual([3, 2, 1]);
  });

  it('an empty class (no targets, no predictions) is left out of macro-F1; a missed one counts 0', () => {
    const empty = classificationMetrics(confusionMatrix([0, 1, 1], [0, 1, 1], 3));
    expect(empty.macroF1).toBe(1);
    expect(empty.perClass[2]).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    // Class 2 present in the targets but never predicted: F1 0 counts.
    const missed = classificationMetrics(confusionMatrix([0, 1, 1], [0, 1, 2], 3));
    expect(missed.macroF1).toBeCloseTo((1 + 2 / 3 + 0) / 3, 12);
  });

  it('no labelled examples: accuracy and macro-F1 are undefined', () => {
    const none = classificationMetrics(confusionMatrix([], [], 2));
    expect(none.accuracy).toBeNaN();
    expect(none.macroF1).toBeNaN();
    expect(none.labelled).toBe(0);
  });
});

describe('regression metrics', () => {
  it('MAE, RMSE, R^2 by hand', () => {
    // errors 0.5, -0.5, 1, 0; targets 3, -0.5, 2, 7 (mean 2.875).
    const m = regressionMetrics([3.5, -1, 3, 7], [3, -0.5, 2, 7]);
    expect(m.mae).toBeCloseTo(0.5, 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt(1.5 / 4), 12);
    const ssTot = [3, -0.5, 2, 7].reduce((s, y) => s + (y - 2.875) ** 2, 0);
    expect(m.r2).toBeCloseTo(1 - 1.5 / ssTot, 12);
  });

  it('constant targets: R^2 is 1 when perfect, else 0; empty: NaN', () => {
    expect(regressionMetrics([2, 2], [2, 2]).r2).toBe(1);
    expect(regressionMetrics([2, 3], [2, 2]).r2).toBe(0);
    expect(regressionMetrics([], []).mae).toBeNaN();
  });
});
