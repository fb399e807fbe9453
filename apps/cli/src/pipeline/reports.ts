import type { EpochLogs } from '@graft/core';
import type { ExplainRow } from '@graft/freeze';
import type { ModelReport } from '@graft/heads';
import type { FreezeRow, HistoryPoint, TaskReport } from '../report/runReport';

/** The key metric of a task kind, as `<task>/<name>` in an evaluation's metrics. */
const KEY_METRIC = { multiLabel: 'mAP', classification: 'accuracy', regression: 'r2' } as const;

/** Learning-curve points: per epoch, the train and validation losses, total and per task. */
export function historyPoints(
  epochs: readonly EpochLogs[],
  kinds: Readonly<Record<string, keyof typeof KEY_METRIC>>,
): HistoryPoint[] {
  const points: HistoryPoint[] = [];
  for (const e of epochs) {
    const epoch = e.epoch + 1;
    points.push({ epoch, split: 'train', task: 'total', loss: e.loss });
    for (const [task, loss] of Object.entries(e.taskLosses)) {
      points.push({ epoch, split: 'train', task, loss });
    }
    const v = e.validation;
    if (!v) continue;
    points.push({ epoch, split: 'validation', task: 'total', loss: v.loss });
    for (const [task, loss] of Object.entries(v.taskLosses)) {
      const kind = kinds[task];
      const metric = kind ? v.metrics[`${task}/${KEY_METRIC[kind]}`] : undefined;
      points.push({
        epoch,
        split: 'validation',
        task,
        loss,
        ...(metric !== undefined && Number.isFinite(metric) ? { metric } : {}),
      });
    }
  }
  return points;
}

/** The heads' evaluation report in report.html's terms. */
export function taskReports(report: ModelReport): TaskReport[] {
  return Object.entries(report.tasks).map(([name, r]): TaskReport => {
    if (r.kind === 'multiLabel') {
      return {
        kind: 'multiLabel',
        name,
        perLabel: r.labels.map((l) => ({
          label: l.label,
          precision: l.precision,
          recall: l.recall,
          f1: l.f1,
          auc: l.auc,
          ap: l.ap,
          threshold: l.threshold,
        })),
        mAP: r.mean.mAP,
        meanF1: r.mean.f1,
      };
    }
    if (r.kind === 'classification') {
      return {
        kind: 'classification',
        name,
        classes: [...r.classes],
        accuracy: r.accuracy,
        macroF1: r.macroF1,
        confusion: r.confusion,
      };
    }
    return { kind: 'regression', name, mae: r.mean.mae, rmse: r.mean.rmse, r2: r.mean.r2 };
  });
}

export function freezeRows(rows: readonly ExplainRow[]): FreezeRow[] {
  return rows.map((r) => ({
    block: r.block,
    params: r.params,
    trainable: r.trainable,
    lrScale: r.lrScale,
    reason: r.reason,
  }));
}

/** One line per task: its key metrics. */
export function describeReport(report: ModelReport): string[] {
  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
  return Object.entries(report.tasks).map(([task, r]) => {
    if (r.kind === 'multiLabel') {
      return `  ${task}: mAP ${fmt(r.mean.mAP)}, mean ROC-AUC ${fmt(r.mean.auc)}, mean F1 ${fmt(r.mean.f1)}`;
    }
    if (r.kind === 'classification') {
      return `  ${task}: accuracy ${fmt(r.accuracy)}, macro-F1 ${fmt(r.macroF1)}`;
    }
    return `  ${task}: R² ${fmt(r.mean.r2)}, MAE ${fmt(r.mean.mae)}, RMSE ${fmt(r.mean.rmse)}`;
  });
}
