import type * as tf from '@tensorflow/tfjs-core';

/**
 * One batch as the Trainer consumes it: images, and per task a target tensor and a mask that
 * is 1 where the label is known and 0 where it is missing (the source notes' "?"). Produced by
 * `@graft/datasets`' batching; any object of this shape works.
 *
 * @example
 * ```ts
 * const batch: Batch = {
 *   x: tf.zeros([2, 64, 64, 3]),
 *   targets: { carCount: tf.tensor2d([[1], [0]]) },
 *   mask: { carCount: tf.tensor2d([[1], [0]]) }, // the second count is missing
 * };
 * ```
 */
export interface Batch {
  /** `[batch, ...inputShape]`. */
  readonly x: tf.Tensor;
  /** Per task name, the targets in the form that task's head reads. */
  readonly targets: Readonly<Record<string, tf.Tensor>>;
  /** Per task name, 1 where the target is known, 0 where it is missing. */
  readonly mask: Readonly<Record<string, tf.Tensor>>;
  /**
   * A stable id per example (row of `x`), the same on every pass. With `augmented: false`,
   * it lets the Trainer cache trunk features per example while the trunk is frozen.
   */
  readonly ids?: readonly string[];
  /**
   * Whether `x` carries random augmentation (different pixels on each pass). The feature
   * cache is used only for batches that say `false`: cached features would freeze one draw.
   */
  readonly augmented?: boolean;
}

/**
 * Something that yields batches, synchronously or not.
 *
 * @example
 * ```ts
 * async function* stream(): AsyncGenerator<Batch> {
 *   for (const b of myBatches) yield b;
 * }
 * const once: BatchStream = stream(); // a stream is read once: fine for one epoch
 * await trainer.fit(once, { epochs: 1 });
 * ```
 */
export type BatchStream = Iterable<Batch> | AsyncIterable<Batch>;

/**
 * A source of fresh batches for every pass. The Trainer disposes each batch it gets from
 * `batches()` once it is done with it, so a source can build batches lazily (and shuffle per
 * epoch) without leaking tensors.
 *
 * @example
 * ```ts
 * const source: BatchSource = {
 *   batchCount: 10,
 *   batches: (epoch) => makeBatches(epoch), // a fresh, reshuffled pass per epoch
 * };
 * await trainer.fit(source, { epochs: 3 });
 * ```
 */
export interface BatchSource {
  /** The batches of one pass; `epoch` (0-based) lets a source reshuffle per pass. */
  batches(epoch: number): BatchStream;
  /** Batches per pass, when known: schedules such as cosine need the total step count. */
  readonly batchCount?: number;
}

/**
 * What `fit` and `evaluate` accept. An array of batches is reused every pass and stays the
 * caller's to dispose; batches from a `BatchSource` or an iterable are disposed by the Trainer.
 *
 * @example
 * ```ts
 * const data: TrainingData = batchSource(dataset, { batchSize: 32 }); // or an array of batches
 * await trainer.evaluate(data);
 * ```
 */
export type TrainingData = readonly Batch[] | BatchSource | BatchStream;

/**
 * Every tensor of a batch, for disposal.
 *
 * @example
 * ```ts
 * tf.dispose(batchTensors(batch)); // x, every target and every mask
 * ```
 */
export function batchTensors(batch: Batch): tf.Tensor[] {
  return [batch.x, ...Object.values(batch.targets), ...Object.values(batch.mask)];
}

/**
 * Batches per pass when the data says so up front; undefined when it can only be counted.
 *
 * @example
 * ```ts
 * knownBatchCount([b1, b2]); // 2
 * knownBatchCount(batchSource(data, { batchSize: 32 })); // its batchCount
 * ```
 */
export function knownBatchCount(data: TrainingData): number | undefined {
  if (Array.isArray(data)) return data.length;
  const source = data as Partial<BatchSource>;
  return typeof source.batches === 'function' ? source.batchCount : undefined;
}

/**
 * One pass over `data`: yields each batch and says whether the Trainer owns it (and so must
 * dispose it after use).
 *
 * @example
 * ```ts
 * for await (const { batch, owned } of passOver(data, 0)) {
 *   // ... use batch ...
 *   if (owned) tf.dispose(batchTensors(batch));
 * }
 * ```
 */
export async function* passOver(
  data: TrainingData,
  epoch: number,
): AsyncGenerator<{ batch: Batch; owned: boolean }> {
  if (Array.isArray(data)) {
    for (const batch of data as readonly Batch[]) yield { batch, owned: false };
    return;
  }
  const source = data as Partial<BatchSource>;
  const stream =
    typeof source.batches === 'function' ? source.batches(epoch) : (data as BatchStream);
  for await (const batch of stream) yield { batch, owned: true };
}
