import { GraftError } from '@graft/errors';
import * as tf from '@tensorflow/tfjs-core';
import { collate } from '../batching/collate';
import type { IndexedDataset } from '../dataset';
import { isIndexed } from '../dataset';
import { indexedDataset } from '../indexedDataset';
import { type FeatureStore, memoryFeatureStore } from './featureStore';

/**
 * Options of {@link cacheFeatures}: the frozen trunk's identity and function, where features
 * are stored, the batch size, and a progress callback.
 *
 * @example
 * ```ts
 * const options: CacheFeaturesOptions = {
 *   backboneKey: 'mobilenetv2-0.35@64x64',
 *   features: (x) => backbone.apply(x, { training: false }),
 *   store: diskFeatureStore('.graft-cache'),
 *   onProgress: (done, total) => console.log(`${done}/${total}`),
 * };
 * ```
 */
export interface CacheFeaturesOptions {
  /**
   * Identifies the frozen trunk: architecture, weights, cut point and input size. Features
   * are stored under (backboneKey, example id); change the key whenever any of these change.
   */
  backboneKey: string;
  /**
   * The frozen trunk: inputs `[batch, ...inputShape]` -> features `[batch, ...featureShape]`,
   * run in inference mode (e.g. `x => trunk.apply(x, { training: false })`). Called inside
   * `tf.tidy`. The datasets package takes a function, not a backbone, so it never depends
   * on `@graft/core`.
   */
  features: (x: tf.Tensor) => tf.Tensor;
  /** Where features live. Default: a new in-memory store. */
  store?: FeatureStore;
  /** Examples per trunk call while filling the cache. Default 32. */
  batchSize?: number;
  /** Called after each trunk batch with (examples done, examples to compute). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * A dataset whose inputs are cached trunk features; ids, tasks and targets are the source's.
 *
 * @example
 * ```ts
 * const cached: CachedFeatures = await cacheFeatures(data, { backboneKey, features });
 * cached.featureShape; // e.g. [2, 2, 1280]; cached.computed: how many were new
 * ```
 */
export interface CachedFeatures extends IndexedDataset {
  readonly featureShape: readonly number[];
  /** Examples whose features were computed by this call (0 when all were cached already). */
  readonly computed: number;
  readonly store: FeatureStore;
}

/**
 * Computes trunk features once for every example not yet in the store and returns a dataset
 * of them, so that heads train on features instead of images: every epoch after the first
 * skips the trunk. Only valid when the whole trunk is frozen (no trainable parameter, batch
 * norm in inference mode) and inputs are not augmented; a `stochastic` (augmented) dataset
 * is refused, since a cache would freeze one random draw.
 *
 * @example
 * ```ts
 * const cached = await cacheFeatures(data, {
 *   backboneKey: 'mobilenetv2-0.35@64x64',
 *   features: (x) => backbone.apply(x, { training: false }),
 * });
 * // heads train on `cached`: every epoch after the first skips the trunk
 * ```
 */
export async function cacheFeatures(
  dataset: IndexedDataset,
  options: CacheFeaturesOptions,
): Promise<CachedFeatures> {
  if (!isIndexed(dataset)) {
    throw new GraftError(
      'DATASET_NOT_INDEXED',
      'the feature cache needs a dataset with random access',
      {
        where: 'cacheFeatures',
      },
    );
  }
  if (dataset.stochastic) {
    throw new GraftError(
      'FEATURE_CACHE_MISMATCH',
      'cannot cache features of augmented (random) inputs',
      {
        where: 'cacheFeatures',
        hint: 'Cache the un-augmented dataset, or train through the trunk when augmenting.',
      },
    );
  }
  const { backboneKey } = options;
  const store = options.store ?? memoryFeatureStore();
  const batchSize = options.batchSize ?? 32;
  const todo: number[] = [];
  const ids = new Set<string>();
  for (let i = 0; i < dataset.size; i++) {
    const { id } = dataset.labelsAt(i);
    if (ids.has(id)) {
      throw new GraftError('FEATURE_CACHE_MISMATCH', `example id "${id}" occurs twice`, {
        where: 'cacheFeatures',
        hint: 'Features are stored by example id, so ids must be unique.',
      });
    }
    ids.add(id);
    if (!(await store.has(backboneKey, id))) todo.push(i);
  }
  let featureShape = await store.shape(backboneKey);
  for (let start = 0; start < todo.length; start += batchSize) {
    const examples = await Promise.all(
      todo.slice(start, start + batchSize).map((i) => dataset.get(i)),
    );
    const host = collate(examples, {});
    const y = tf.tidy(() => options.features(tf.tensor(host.x, host.xShape, 'float32')));
    const shape = y.shape.slice(1);
    // Read outside tidy (tidy would walk a returned typed array looking for tensors).
    const values = (await y.data()) as Float32Array;
    y.dispose();
    const per = shape.reduce((a, b) => a * b, 1);
    await store.write(
      backboneKey,
      shape,
      examples.map((e, k) => ({ id: e.id, features: values.slice(k * per, (k + 1) * per) })),
    );
    featureShape = shape;
    options.onProgress?.(Math.min(todo.length, start + batchSize), todo.length);
  }
  if (!featureShape) {
    throw new GraftError('DATASET_EMPTY', 'no examples to compute features for', {
      where: 'cacheFeatures',
    });
  }
  const shape = featureShape;
  const cached = indexedDataset({
    size: dataset.size,
    tasks: dataset.tasks,
    description: `cacheFeatures ${backboneKey}`,
    labelsAt: (i) => dataset.labelsAt(i),
    async get(i) {
      const labels = dataset.labelsAt(i);
      const data = await store.read(backboneKey, labels.id);
      if (!data) {
        throw new GraftError(
          'FEATURE_CACHE_MISMATCH',
          `no cached features for example ${labels.id}`,
          {
            where: `${store.description}, backbone "${backboneKey}"`,
            hint: 'Example ids must be unique and stable between runs.',
          },
        );
      }
      return { ...labels, input: { data, shape } };
    },
  });
  return { ...cached, featureShape: shape, computed: todo.length, store };
}
