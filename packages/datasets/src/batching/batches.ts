import { GraftError } from '@graft/errors';
import * as tf from '@tensorflow/tfjs-core';
import { type Dataset, type Example, type IndexedDataset, isIndexed } from '../dataset';
import { createRng, mixSeed } from '../random';
import { collate, type HostBatch } from './collate';
import { prefetch } from './prefetch';

/**
 * A batch as training consumes it. Per task (names and order from the dataset's `tasks`):
 *
 * | kind             | `targets[task]`                     | `mask[task]`                   |
 * | ---------------- | ----------------------------------- | ------------------------------ |
 * | `multiLabel`     | float32 `[batch, labels]`, 0/1      | float32 `[batch, labels]`      |
 * | `classification` | int32 `[batch]`, class index        | float32 `[batch]`              |
 * | `regression`     | float32 `[batch, outputs]`          | float32 `[batch, outputs]`     |
 *
 * `mask` is 1 where a label exists and 0 where it is missing; a missing target is 0, so a
 * masked loss (sum of mask x loss over the labelled count) ignores it. `x` is float32
 * `[batch, ...inputShape]`. The consumer owns the tensors: call `disposeBatch` when done.
 *
 * @example
 * ```ts
 * for await (const batch of batches(data, { batchSize: 32 })) {
 *   console.log(batch.size, batch.x.shape, batch.targets.presence?.shape, batch.mask.presence?.shape);
 *   disposeBatch(batch);
 * }
 * ```
 */
export interface Batch {
  /** Each row's example id (stable across passes). */
  ids: string[];
  /**
   * Whether the inputs carry random augmentation (the dataset is `stochastic`). With `false`
   * and the ids, core's Trainer may cache trunk features per example while the trunk is frozen.
   */
  augmented?: boolean;
  /** Number of examples (the last batch may be smaller). */
  size: number;
  x: tf.Tensor;
  targets: Record<string, tf.Tensor>;
  mask: Record<string, tf.Tensor>;
}

/**
 * Options of {@link batches}: batch size, seeded shuffling per epoch, and how many batches are
 * prepared ahead.
 *
 * @example
 * ```ts
 * const options: BatchesOptions = { batchSize: 32, shuffle: true, seed: 1, epoch: 0 };
 * ```
 */
export interface BatchesOptions {
  batchSize: number;
  /** Shuffle the example order (seeded by `seed` and `epoch`). Default false. */
  shuffle?: boolean;
  /** Seed for shuffling; required when `shuffle` is true. */
  seed?: number;
  /** Mixed into the shuffle seed, so each epoch has its own order. Default 0. */
  epoch?: number;
  /** Drop a last batch smaller than `batchSize`. Default false. */
  dropRemainder?: boolean;
  /** Batches prepared ahead of the consumer (as plain arrays, not tensors). Default 2. */
  prefetch?: number;
  /**
   * For datasets that only stream (not indexed): shuffle within a window of this many
   * examples. Memory holds about this many examples. Default 16 x batchSize.
   */
  shuffleBuffer?: number;
}

/**
 * Batches of tensors from a dataset. Indexed datasets shuffle by permuting indices and load
 * each batch's examples concurrently; streaming datasets shuffle within a bounded window.
 * Either way at most about `(prefetch + 1) x batchSize` examples (plus the shuffle window)
 * are resident, however large the dataset.
 *
 * @example
 * ```ts
 * for await (const batch of batches(data, { batchSize: 32, shuffle: true, seed: 1 })) {
 *   // batch.x: [32, ...inputShape]; batch.targets / batch.mask per task
 *   disposeBatch(batch);
 * }
 * ```
 */
export async function* batches(dataset: Dataset, options: BatchesOptions): AsyncGenerator<Batch> {
  const augmented = dataset.stochastic === true;
  for await (const host of hostBatches(dataset, options)) yield { ...toTensors(host), augmented };
}

/**
 * The same batches as `batches`, as plain arrays (no tensors).
 *
 * @example
 * ```ts
 * for await (const host of hostBatches(data, { batchSize: 16 })) {
 *   console.log(host.ids.length, host.xShape); // plain arrays: no tensors to dispose
 * }
 * ```
 */
export function hostBatches(dataset: Dataset, options: BatchesOptions): AsyncGenerator<HostBatch> {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `batchSize must be a whole number >= 1, got ${batchSize}`,
      {
        where: 'batches',
      },
    );
  }
  if (options.shuffle && options.seed === undefined) {
    throw new GraftError('INVALID_ARGUMENT', 'shuffle needs a seed', {
      where: 'batches',
      hint: 'Pass { shuffle: true, seed } so the same seed gives the same order.',
    });
  }
  if (dataset.size === 0) {
    throw new GraftError('DATASET_EMPTY', 'The dataset has no examples', {
      where: 'batches',
      hint: 'Check the adapter options (folder, manifest path, filters) and any skipped rows.',
    });
  }
  const ahead = options.prefetch ?? 2;
  const source = isIndexed(dataset)
    ? indexedBatches(dataset, options)
    : streamedBatches(dataset, options);
  return prefetch(source, ahead);
}

async function* indexedBatches(
  dataset: IndexedDataset,
  options: BatchesOptions,
): AsyncGenerator<HostBatch> {
  const { batchSize } = options;
  const order = Array.from({ length: dataset.size }, (_, i) => i);
  if (options.shuffle) createRng(mixSeed(options.seed ?? 0, options.epoch ?? 0)).shuffle(order);
  for (let start = 0; start < order.length; start += batchSize) {
    const indices = order.slice(start, start + batchSize);
    if (indices.length < batchSize && options.dropRemainder) return;
    const examples = await Promise.all(indices.map((i) => dataset.get(i)));
    yield collate(examples, dataset.tasks);
  }
}

async function* streamedBatches(
  dataset: Dataset,
  options: BatchesOptions,
): AsyncGenerator<HostBatch> {
  const { batchSize } = options;
  const window = options.shuffle ? Math.max(batchSize, options.shuffleBuffer ?? 16 * batchSize) : 0;
  const rng = createRng(mixSeed(options.seed ?? 0, options.epoch ?? 0));
  const buffer: Example[] = [];
  let pending: Example[] = [];
  const emit = (e: Example): HostBatch | undefined => {
    pending.push(e);
    if (pending.length < batchSize) return undefined;
    const batch = collate(pending, dataset.tasks);
    pending = [];
    return batch;
  };
  for await (const example of dataset) {
    if (window === 0) {
      const b = emit(example);
      if (b) yield b;
      continue;
    }
    buffer.push(example);
    if (buffer.length < window) continue;
    // Swap a random buffered example out: a shuffle within a sliding window.
    const j = rng.int(buffer.length);
    const chosen = buffer[j] as Example;
    buffer[j] = buffer[buffer.length - 1] as Example;
    buffer.pop();
    const b = emit(chosen);
    if (b) yield b;
  }
  rng.shuffle(buffer);
  for (const e of buffer) {
    const b = emit(e);
    if (b) yield b;
  }
  if (pending.length > 0 && !options.dropRemainder) yield collate(pending, dataset.tasks);
}

/**
 * Turns a host batch into tensors (the caller disposes them, see `disposeBatch`).
 *
 * @example
 * ```ts
 * const batch = toTensors(collate(examples, data.tasks));
 * disposeBatch(batch);
 * ```
 */
export function toTensors(host: HostBatch): Batch {
  const targets: Record<string, tf.Tensor> = {};
  const mask: Record<string, tf.Tensor> = {};
  for (const [task, t] of Object.entries(host.targets)) {
    targets[task] = tf.tensor(
      t.values,
      t.shape,
      t.values instanceof Int32Array ? 'int32' : 'float32',
    );
    mask[task] = tf.tensor(t.mask, t.shape, 'float32');
  }
  return {
    ids: host.ids,
    size: host.ids.length,
    x: tf.tensor(host.x, host.xShape, 'float32'),
    targets,
    mask,
  };
}

/**
 * Disposes every tensor of a batch.
 *
 * @example
 * ```ts
 * for await (const batch of batches(data, { batchSize: 16 })) disposeBatch(batch);
 * ```
 */
export function disposeBatch(batch: Batch): void {
  batch.x.dispose();
  for (const t of Object.values(batch.targets)) t.dispose();
  for (const m of Object.values(batch.mask)) m.dispose();
}
