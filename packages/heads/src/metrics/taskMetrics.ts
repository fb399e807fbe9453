import type { TaskHead } from '../heads/taskHead';
import {
  averagePrecision,
  countsAt,
  meanDefined,
  precisionRecallF1,
  rocAuc,
} from './binaryMetrics';
import {
  type ClassificationMetrics,
  classificationMetrics,
  confusionMatrix,
} from './classificationMetrics';
import { type RegressionMetrics, regressionMetrics } from './regressionMetrics';

/**
 * The evaluation report of one label of a multi-label task, at its decision threshold.
 *
 * @example
 * ```ts
 * const r = report.tasks.presence;
 * if (r?.kind === 'multiLabel') for (const l of r.labels) console.log(l.label, l.threshold, l.f1, l.auc);
 * ```
 */
export interface LabelReport {
  label: string;
  /** The decision threshold precision, recall and F1 are taken at. */
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
  /** NaN when the label's examples are all positive or all negative. */
  auc: number;
  /** NaN when the label has no positive example. */
  ap: number;
  positives: number;
  labelled: number;
}

/**
 * The evaluation report of a multi-label task: one {@link LabelReport} per label and their means.
 *
 * @example
 * ```ts
 * const r = report.tasks.presence;
 * if (r?.kind === 'multiLabel') console.log(r.mean.mAP, r.mean.auc);
 * ```
 */
export interface MultiLabelReport {
  kind: 'multiLabel';
  labels: LabelReport[];
  /** Means over the labels where each is defined; `mAP` is the mean average precision. */
  mean: { precision: number; recall: number; f1: number; auc: number; mAP: number };
}

/**
 * The evaluation report of a classification task: its metrics with the class names.
 *
 * @example
 * ```ts
 * const r = report.tasks.lightColour;
 * if (r?.kind === 'classification') console.log(r.classes, r.accuracy, r.confusion);
 * ```
 */
export interface ClassificationReport extends ClassificationMetrics {
  kind: 'classification';
  classes: readonly string[];
}

/**
 * The evaluation report of a regression task: metrics per output and their means.
 *
 * @example
 * ```ts
 * const r = report.tasks.carCount;
 * if (r?.kind === 'regression') console.log(r.mean.mae, r.outputs[0]?.r2);
 * ```
 */
export interface RegressionReport {
  kind: 'regression';
  outputs: (RegressionMetrics & { name: string })[];
  mean: { mae: number; rmse: number; r2: number };
}

/**
 * The evaluation report of one task; `kind` tells which.
 *
 * @example
 * ```ts
 * for (const [task, r] of Object.entries(report.tasks)) {
 *   if (r.kind === 'regression') console.log(task, r.mean.mae);
 * }
 * ```
 */
export type TaskReport = MultiLabelReport | ClassificationReport | RegressionReport;

/**
 * Labelled (score, target) pairs per label, as collected from batches.
 *
 * @example
 * ```ts
 * const [first]: LabelScores[] = taskMetrics(head).pairs();
 * bestF1Threshold(first?.scores ?? [], first?.targets ?? []);
 * ```
 */
export interface LabelScores {
  scores: number[];
  targets: number[];
}

/**
 * Accumulates one task's predictions over batches (host arrays, labelled entries only).
 *
 * @example
 * ```ts
 * const acc: TaskMetricsAccumulator = taskMetrics(regression({ outputs: 1 }));
 * acc.add([2.5, 4], [3, 0], [1, 0]); // the second target is missing
 * acc.result().scalars; // { mae: 0.5, rmse: 0.5, ... }
 * ```
 */
export interface TaskMetricsAccumulator {
  /**
   * `predictions` are the head's probabilities or values, `[batch, units]` flattened;
   * `targets` and `mask` as the batch holds them, flattened.
   */
  add(predictions: ArrayLike<number>, targets: ArrayLike<number>, mask: ArrayLike<number>): void;
  /** Flat numbers (means) for callbacks, and the full report. */
  result(): { scalars: Record<string, number>; report: TaskReport };
  /** Per label (multi-label) or per output, the labelled pairs seen so far. */
  pairs(): LabelScores[];
}

/**
 * The metrics accumulator for a head; multi-label decisions use `thresholds` (per label).
 *
 * @example
 * ```ts
 * const acc = taskMetrics(multiLabel({ labels: ['car', 'bus'] }), [0.5, 0.3]);
 * acc.add([0.9, 0.2, 0.4, 0.6], [1, 0, 0, 1], [1, 1, 1, 0]); // 2 examples, flattened
 * const { scalars, report } = acc.result();
 * ```
 */
export function taskMetrics(
  head: TaskHead,
  thresholds?: readonly number[],
): TaskMetricsAccumulator {
  const width = head.kind === 'classification' ? 1 : head.units;
  const pairs: LabelScores[] = Array.from({ length: width }, () => ({ scores: [], targets: [] }));
  const predicted: number[] = [];
  return {
    add(predictions, targets, mask) {
      if (head.kind === 'classification') {
        const k = head.units;
        for (let i = 0; i < mask.length; i++) {
          if (mask[i] !== 1) continue;
          let best = 0;
          for (let c = 1; c < k; c++) {
            if ((predictions[i * k + c] as number) > (predictions[i * k + best] as number))
              best = c;
          }
          predicted.push(best);
          (pairs[0] as LabelScores).targets.push(targets[i] as number);
        }
        return;
      }
      for (let i = 0; i < mask.length; i++) {
        if (mask[i] !== 1) continue;
        const p = pairs[i % width] as LabelScores;
        p.scores.push(predictions[i] as number);
        p.targets.push(targets[i] as number);
      }
    },
    pairs: () => pairs,
    result(): { scalars: Record<string, number>; report: TaskReport } {
      if (head.kind === 'multiLabel') {
        const labels = head.labels.map((label, j): LabelReport => {
          const { scores, targets } = pairs[j] as LabelScores;
          const threshold = thresholds?.[j] ?? head.threshold;
          return {
            label,
            threshold,
            ...precisionRecallF1(countsAt(scores, targets, threshold)),
            auc: rocAuc(scores, targets),
            ap: averagePrecision(scores, targets),
            positives: targets.filter((y) => y > 0.5).length,
            labelled: targets.length,
          };
        });
        const mean = {
          precision: meanDefined(labels.filter((l) => l.labelled > 0).map((l) => l.precision)),
          recall: meanDefined(labels.filter((l) => l.labelled > 0).map((l) => l.recall)),
          f1: meanDefined(labels.filter((l) => l.labelled > 0).map((l) => l.f1)),
          auc: meanDefined(labels.map((l) => l.auc)),
          mAP: meanDefined(labels.map((l) => l.ap)),
        };
        return {
          scalars: {
            mAP: mean.mAP,
            meanAUC: mean.auc,
            meanF1: mean.f1,
            meanPrecision: mean.precision,
            meanRecall: mean.recall,
          },
          report: { kind: 'multiLabel', labels, mean },
        };
      }
      if (head.kind === 'classification') {
        const m = classificationMetrics(
          confusionMatrix(predicted, (pairs[0] as LabelScores).targets, head.units),
        );
        return {
          scalars: { accuracy: m.accuracy, macroF1: m.macroF1 },
          report: { kind: 'classification', classes: head.classes, ...m },
        };
      }
      const outputs = head.outputNames.map((name, j) => ({
        name,
        ...regressionMetrics((pairs[j] as LabelScores).scores, (pairs[j] as LabelScores).targets),
      }));
      const mean = {
        mae: meanDefined(outputs.map((o) => o.mae)),
        rmse: meanDefined(outputs.map((o) => o.rmse)),
        r2: meanDefined(outputs.map((o) => o.r2)),
      };
      return { scalars: { ...mean }, report: { kind: 'regression', outputs, mean } };
    },
  };
}
