// Types of tinyJob.mjs for the TypeScript tests that import it.
import type { Batch, ReplicaJob, ReplicaJobContext, TrainableModel } from '../../index';

export function tinyModel(options?: { batchNorm?: boolean }): TrainableModel;
export function tinyBatches(options?: {
  batches?: number;
  batchSize?: number;
  seed?: number;
  unlabelled?: boolean;
}): Batch[];
export default function job(context: ReplicaJobContext): Promise<ReplicaJob>;
