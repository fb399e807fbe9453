import type { BatchMetrics } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';
import type { TaskHead } from '../heads/taskHead';
import type { MultiTaskModel } from '../model/multiTaskModel';
import { type TaskMetricsAccumulator, type TaskReport, taskMetrics } from './taskMetrics';

/**
 * The full per-task report of an evaluation.
 *
 * @example
 * ```ts
 * const { report } = await trainer.evaluate(testData);
 * const tasks = (report as ModelReport).tasks; // e.g. tasks.presence.mean.mAP
 * ```
 */
export interface ModelReport {
  tasks: Record<string, TaskReport>;
}

/**
 * Metrics of every task of a multi-task model over the batches of one pass (the Trainer's
 * `evaluate` and validation use it). Multi-label decisions use the model's thresholds.
 * Scalars are named `<task>/<metric>`: `presence/mAP`, `lightColour/macroF1`, `carCount/mae`.
 *
 * @example
 * ```ts
 * // A fresh accumulator per evaluation pass; what the Trainer uses by default.
 * const trainer = new Trainer({ model, plan, metrics: () => modelMetrics(model) });
 * ```
 */
export function modelMetrics(
  model: MultiTaskModel,
): BatchMetrics & { taskAccumulators: Record<string, TaskMetricsAccumulator> } {
  const accumulators: Record<string, TaskMetricsAccumulator> = {};
  for (const task of model.tasks) {
    const head = model.heads[task] as TaskHead;
    accumulators[task] = taskMetrics(
      head,
      head.kind === 'multiLabel' ? model.thresholds(task) : undefined,
    );
  }
  return {
    taskAccumulators: accumulators,
    update(outputs, batch) {
      const batchSize = batch.x.shape[0] ?? 0;
      for (const task of model.tasks) {
        const head = model.heads[task] as TaskHead;
        const targets = batch.targets[task];
        const mask = batch.mask[task];
        const output = outputs[task];
        if (!targets || !mask || !output) continue;
        head.checkShapes(targets, mask, batchSize, task);
        const t = targets.dataSync();
        const m = mask.dataSync();
        head.checkValues(t, m, task);
        const predictions = tf.tidy(() => head.predict(output));
        const p = predictions.dataSync();
        predictions.dispose();
        accumulators[task]?.add(p, t, m);
      }
    },
    result() {
      const scalars: Record<string, number> = {};
      const report: ModelReport = { tasks: {} };
      for (const task of model.tasks) {
        const r = (accumulators[task] as TaskMetricsAccumulator).result();
        for (const [name, v] of Object.entries(r.scalars)) scalars[`${task}/${name}`] = v;
        report.tasks[task] = r.report;
      }
      return { scalars, report };
    },
  };
}
