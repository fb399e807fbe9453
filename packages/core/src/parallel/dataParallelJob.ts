import type { TrainingData } from '../train/batch';
import type { FitOptions, TrainerOptions } from '../train/trainer';

/**
 * What one replica of {@link fitDataParallel} trains: built in each worker thread by the job
 * module's default export, the same way in every replica (same model and initial weights,
 * same batches in the same order; each replica trains on its own rows of every batch).
 *
 * @example
 * ```ts
 * // job.mjs: `export default job`
 * const job = async ({ options }: ReplicaJobContext): Promise<ReplicaJob> => ({
 *   trainer: { model: buildMyModel({ seed: 1 }) }, // the same weights in every replica
 *   data: myBatches({ seed: 1 }), // the same batches, in the same order
 *   fit: { epochs: (options as { epochs: number }).epochs },
 * });
 * ```
 */
export interface ReplicaJob {
  /** Trainer options, as for `new Trainer(...)`; fitDataParallel adds `dataParallel`. */
  trainer: Omit<TrainerOptions, 'dataParallel'>;
  data: TrainingData;
  /**
   * fit options; callbacks run in every replica (they see the same numbers, so decisions
   * such as early stopping agree). Progress for the starting thread comes from
   * fitDataParallel's own `onStepEnd` / `onEpochEnd`.
   */
  fit: FitOptions;
}

/**
 * What a job module's default export receives: this replica's rank, the replica count and
 * the `options` given to {@link fitDataParallel} (structured-cloned).
 *
 * @example
 * ```ts
 * const job = (context: ReplicaJobContext): ReplicaJob => ({
 *   trainer: { model: buildModel() },
 *   data: myBatches(context.options),
 *   fit: { epochs: 1 },
 * });
 * ```
 */
export interface ReplicaJobContext {
  rank: number;
  replicas: number;
  options: unknown;
}
