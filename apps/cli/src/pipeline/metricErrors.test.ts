import type { ModelReport } from '@graft/heads';
import { describe, expect, it } from 'vitest';
import { accuracyStandardError, aucStandardError, keyMetricStandardError } from './metricErrors';

describe('metric standard errors', () => {
  it('accuracy: binomial', () => {
    expect(accuracyStandardError(0.8, 100)).toBeCloseTo(0.04, 12);
    expect(accuracyStandardError(0.5, 0)).toBeNaN();
  });

  it("AUC: Hanley & McNeil's formula, worked by hand", () => {
    // AUC 0.8, 50 positives, 50 negatives: Q1 = 0.8/1.2, Q2 = 1.28/1.8,
    // variance = (0.16 + 49 (Q1 - 0.64) + 49 (Q2 - 0.64)) / 2500 = 0.0019804 -> SE 0.04450.
    expect(aucStandardError(0.8, 50, 50)).toBeCloseTo(0.0445, 4);
    // A perfect score still carries no negative variance; no negatives -> undefined.
    expect(aucStandardError(1, 10, 10)).toBe(0);
    expect(aucStandardError(0.7, 10, 0)).toBeNaN();
  });

  it('agrees with the spread of simulated AUCs', () => {
    // Scores ~ N(0,1) for negatives, N(1.19,1) for positives (true AUC about 0.8).
    let seed = 12345;
    const uniform = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return (seed + 0.5) / 2147483648;
    };
    const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    const aucs: number[] = [];
    for (let trial = 0; trial < 400; trial++) {
      const pos = Array.from({ length: 40 }, () => normal() + 1.19);
      const neg = Array.from({ length: 60 }, () => normal());
      let wins = 0;
      for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0;
      aucs.push(wins / (40 * 60));
    }
    const mean = aucs.reduce((a, b) => a + b, 0) / aucs.length;
    const sd = Math.sqrt(aucs.reduce((a, v) => a + (v - mean) ** 2, 0) / (aucs.length - 1));
    const predicted = aucStandardError(mean, 40, 60);
    expect(Math.abs(sd - predicted) / predicted).toBeLessThan(0.2);
  });

  it('key metric of a report: mean AUC over labels, accuracy; none for R²', () => {
    const label = (auc: number, positives: number, labelled: number) => ({
      label: 'x',
      threshold: 0.5,
      precision: 0,
      recall: 0,
      f1: 0,
      auc,
      ap: 0,
      positives,
      labelled,
    });
    const report = {
      tasks: {
        presence: {
          kind: 'multiLabel',
          labels: [label(0.8, 50, 100), label(0.8, 50, 100), label(Number.NaN, 0, 100)],
          mean: { precision: 0, recall: 0, f1: 0, auc: 0.8, mAP: 0 },
        },
        light: { kind: 'classification', accuracy: 0.8, labelled: 100 },
        count: { kind: 'regression', mean: { mae: 0, rmse: 0, r2: 0.5 }, outputs: [] },
      },
    } as unknown as ModelReport;
    // Two defined labels, independent: sqrt(2) * SE / 2.
    expect(keyMetricStandardError(report, 'presence')).toBeCloseTo(
      (Math.SQRT2 * aucStandardError(0.8, 50, 50)) / 2,
      12,
    );
    expect(keyMetricStandardError(report, 'light')).toBeCloseTo(0.04, 12);
    expect(keyMetricStandardError(report, 'count')).toBeNaN();
    expect(keyMetricStandardError(report, 'nothing')).toBeNaN();
  });
});
