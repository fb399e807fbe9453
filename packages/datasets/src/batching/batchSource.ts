import { GraftError } from '@graft/errors';
import type { Dataset } from '../dataset';
import type { Transform } from '../transforms/transform';
import { mapExamples } from '../transforms/transform';
import { type Batch, type BatchesOptions, batches } from './batches';

/**
 * Options of {@link batchSource}: the batching options, and transforms drawn afresh every
 * epoch (augmentations, then preprocessing).
 *
 * @example
 * ```ts
 * const options: BatchSourceOptions = {
 *   batchSize: 32,
 *   shuffle: true,
 *   seed: 1,
 *   transforms: [randomFlip(), ...fitToBackbone(backbone.preprocessing)],
 * };
 * ```
 */
export interface BatchSourceOptions extends Omit<BatchesOptions, 'epoch'> {
  /**
   * Transforms applied before batching, drawn afresh every epoch (random ones are seeded by
   * `seed` and the epoch): augmentations, then e.g. `fitToBackbone(...)`.
   */
  transforms?: readonly Transform[];
}

/**
 * Fresh batches for every pass: the shape `@graft/core`'s Trainer takes as a BatchSource.
 *
 * @example
 * ```ts
 * const source: EpochBatches = batchSource(data, { batchSize: 32, shuffle: true, seed: 1 });
 * await trainer.fit(source, { epochs: 5 }); // core's Trainer takes it as a BatchSource
 * ```
 */
export interface EpochBatches {
  /** The batches of pass `epoch` (0-based): its own shuffle order and augmentation. */
  batches(epoch: number): AsyncGenerator<Batch>;
  /** Batches per pass. */
  readonly batchCount: number;
}

/**
 * A dataset as a per-epoch batch source: every pass reshuffles (by seed and epoch) and
 * redraws its augmentations, and the Trainer disposes the batches it is given.
 *
 * @example
 * ```ts
 * const train = batchSource(data, { batchSize: 32, shuffle: true, seed: 1, transforms: [randomFlip()] });
 * await trainer.fit(train, { epochs: 5, validation: batchSource(validation, { batchSize: 64 }) });
 * ```
 */
export function batchSource(dataset: Dataset, options: BatchSourceOptions): EpochBatches {
  const { transforms = [], ...batchOptions } = options;
  if (transforms.some((t) => t.random) && options.seed === undefined) {
    throw new GraftError('INVALID_ARGUMENT', 'random transforms need a seed', {
      where: 'batchSource',
      hint: 'Pass { seed } so the same seed gives the same augmentation.',
    });
  }
  const n = dataset.size;
  const b = options.batchSize;
  return {
    batchCount: options.dropRemainder ? Math.floor(n / b) : Math.ceil(n / b),
    batches(epoch) {
      const source =
        transforms.length > 0
          ? mapExamples(dataset, transforms, { seed: options.seed ?? 0, epoch })
          : dataset;
      return batches(source, { ...batchOptions, epoch });
    },
  };
}
