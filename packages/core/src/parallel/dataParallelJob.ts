import type { TrainingData } from '../train/batch';
import type { FitOptions, TrainerOptions } from '../train/trainer';

/**
 * What one replica of {@link fitDataParallel} trains: built in each worker thread by the job
 * module's default export, the same way in every replica (same model and initial weights,
 * same batches in the same order; each replica trains on its own rows of every batch).
 *
 * @example
 * ```ts
 * // job.mjs
 * export default async function job({ rank, options }) {
 *   const model = buildMyModel({ seed: 1 });
 *   return { trainer: { model }, data: myBatches({ seed: 1 }), fit: { epochs: options.epochs } };
 * }
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
 * export default function job(context: ReplicaJobContext): ReplicaJob {
 *   return { trainer: { model: buildModel() }, data: batches(context.options), fit: { epochs: 1 } };
 * }
 * ```
 */
export interface ReplicaJobContext {
  rank: number;
  replicas: number;
  options: unknown;
}
