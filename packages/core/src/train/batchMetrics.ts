import type { Batch } from './batch';
import type { ModelOutputs } from './trainableModel';

/**
 * What a metrics pass hands back: flat named numbers plus whatever detail the metric keeps.
 *
 * @example
 * ```ts
 * const metrics = modelMetrics(model);
 * metrics.update(outputs, batch);
 * const { scalars, report }: MetricsResult = metrics.result();
 * ```
 */
export interface MetricsResult {
  /**
   * Named numbers callbacks can monitor, e.g. `presence/mAP`, `lightColour/accuracy`. NaN
   * marks a metric that is undefined on this data (e.g. ROC-AUC with one class only).
   */
  readonly scalars: Readonly<Record<string, number>>;
  /** The full report (per-label tables, confusion matrices), for people and files. */
  readonly report?: unknown;
}

/**
 * Accumulates metrics over the batches of one evaluation pass. `update` may read tensors to
 * the host; it must not keep or dispose them.
 *
 * @example
 * ```ts
 * const metrics: BatchMetrics = modelMetrics(model);
 * metrics.update(outputs, batch); // per batch
 * const { scalars } = metrics.result(); // e.g. { 'presence/mAP': 0.8, ... }
 * ```
 */
export interface BatchMetrics {
  update(outputs: ModelOutputs, batch: Batch): void;
  result(): MetricsResult;
}
