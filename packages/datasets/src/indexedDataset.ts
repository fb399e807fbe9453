import { GraftError } from '@graft/errors';
import type { Example, ExampleLabels, IndexedDataset } from './dataset';
import type { TaskSpecs } from './taskSpec';

/**
 * What {@link indexedDataset} builds a dataset from: size, tasks, `get`, `labelsAt` and a
 * description for errors.
 *
 * @example
 * ```ts
 * const parts: IndexedDatasetParts = {
 *   size: labels.length,
 *   tasks,
 *   description: 'my dataset',
 *   get: async (i) => ({ id: `${i}`, input: await load(i), targets: labels[i] }),
 *   labelsAt: (i) => ({ id: `${i}`, targets: labels[i] }),
 * };
 * ```
 */
export interface IndexedDatasetParts {
  size: number;
  tasks: TaskSpecs;
  stochastic?: boolean;
  get(index: number): Promise<Example>;
  labelsAt(index: number): ExampleLabels;
  /** Names the dataset in errors, e.g. `manifest labels.csv`. */
  description: string;
}

/**
 * Builds an IndexedDataset from `get` and `labelsAt`, adding bounds checks and iteration in
 * index order, one example resident at a time.
 *
 * @example
 * ```ts
 * const data = indexedDataset({
 *   size: 2,
 *   tasks: { value: { kind: 'regression', outputs: 1 } },
 *   description: 'two constant images',
 *   get: async (i) => ({ id: `${i}`, input: { data: new Float32Array(4).fill(i), shape: [2, 2, 1] }, targets: { value: i } }),
 *   labelsAt: (i) => ({ id: `${i}`, targets: { value: i } }),
 * });
 * ```
 */
export function indexedDataset(parts: IndexedDatasetParts): IndexedDataset {
  const { size, description } = parts;
  const check = (index: number): void => checkIndex(index, size, description);
  return {
    size,
    tasks: parts.tasks,
    ...(parts.stochastic ? { stochastic: true } : {}),
    async get(index) {
      check(index);
      return parts.get(index);
    },
    labelsAt(index) {
      check(index);
      return parts.labelsAt(index);
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<Example> {
      for (let i = 0; i < size; i++) yield await parts.get(i);
    },
  };
}

/** Throws a GraftError naming the dataset when `index` is not an example position. */
export function checkIndex(index: number, size: number, description: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= size) {
    throw new GraftError('INVALID_ARGUMENT', `Example index ${index} is out of range`, {
      where: description,
      hint: `Use an index in [0, ${size}).`,
    });
  }
}
