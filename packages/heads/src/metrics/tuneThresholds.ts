import { passOver, type TrainingData } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';
import type { MultiTaskModel } from '../model/multiTaskModel';
import { modelMetrics } from './modelMetrics';
import { bestF1Threshold, type TunedThreshold } from './thresholds';

/**
 * Tunes every multi-label task's per-label decision thresholds to maximise F1 on `data`
 * (validation data, never the test split), stores them in the model (so `describe()` and the
 * saved `graft.json` carry them) and returns them with the F1 each reached. A label with no
 * positive example keeps its current threshold.
 *
 * @example
 * ```ts
 * const tuned = await tuneThresholds(model, validationSource);
 * tuned.presence?.map((t) => t.threshold); // stored in the model and in graft.json
 * ```
 */
export async function tuneThresholds(
  model: MultiTaskModel,
  data: TrainingData,
): Promise<Record<string, TunedThreshold[]>> {
  const metrics = modelMetrics(model);
  for await (const { batch, owned } of passOver(data, 0)) {
    try {
      const outputs = tf.tidy(() => ({ ...model.forward(batch.x, { training: false }) }));
      try {
        metrics.update(outputs, batch);
      } finally {
        tf.dispose(Object.values(outputs));
      }
    } finally {
      if (owned)
        tf.dispose([batch.x, ...Object.values(batch.targets), ...Object.values(batch.mask)]);
    }
  }
  const tuned: Record<string, TunedThreshold[]> = {};
  for (const task of model.tasks) {
    if (model.heads[task]?.kind !== 'multiLabel') continue;
    const current = model.thresholds(task);
    const pairs = metrics.taskAccumulators[task]?.pairs() ?? [];
    tuned[task] = pairs.map((p, j) => bestF1Threshold(p.scores, p.targets, current[j] ?? 0.5));
    model.setThresholds(
      task,
      tuned[task].map((t) => t.threshold),
    );
  }
  return tuned;
}
