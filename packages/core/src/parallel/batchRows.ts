import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../train/batch';

/**
 * The rows `[start, end)` of a `rows`-row batch that replica `rank` of `size` trains on:
 * contiguous and as even as possible, the first `rows % size` replicas taking one row more.
 * A replica gets no rows when the batch has fewer rows than there are replicas.
 *
 * @example
 * ```ts
 * replicaRows(5, 0, 2); // [0, 3]
 * replicaRows(5, 1, 2); // [3, 5]
 * ```
 */
export function replicaRows(rows: number, rank: number, size: number): [number, number] {
  const base = Math.floor(rows / size);
  const extra = rows % size;
  const start = rank * base + Math.min(rank, extra);
  return [start, start + base + (rank < extra ? 1 : 0)];
}

/**
 * Rows `[start, end)` of every tensor of a batch (images, targets, masks) and of its ids, as
 * new tensors the caller disposes.
 *
 * @example
 * ```ts
 * const mine = batchRows(batch, 0, 8);
 * tf.dispose(batchTensors(mine));
 * ```
 */
export function batchRows(batch: Batch, start: number, end: number): Batch {
  const rows = (t: tf.Tensor) => tf.slice(t, start, end - start);
  const each = (m: Readonly<Record<string, tf.Tensor>>) =>
    Object.fromEntries(Object.entries(m).map(([k, t]) => [k, rows(t)]));
  return {
    x: rows(batch.x),
    targets: each(batch.targets),
    mask: each(batch.mask),
    ...(batch.ids ? { ids: batch.ids.slice(start, end) } : {}),
    ...(batch.augmented !== undefined ? { augmented: batch.augmented } : {}),
  };
}
