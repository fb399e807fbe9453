import { GraftError } from '@graft/errors';
import type { IndexedDataset } from './dataset';
import { indexedDataset } from './indexedDataset';

/**
 * The examples at `indices` (in that order) of an indexed dataset, loaded on demand.
 *
 * @example
 * ```ts
 * const firstHundred = subset(data, Array.from({ length: 100 }, (_, i) => i));
 * ```
 */
export function subset(dataset: IndexedDataset, indices: readonly number[]): IndexedDataset {
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= dataset.size) {
      throw new GraftError('INVALID_ARGUMENT', `subset index ${i} is out of range`, {
        where: 'subset',
        hint: `Use indices in [0, ${dataset.size}).`,
      });
    }
  }
  const at = (i: number): number => indices[i] as number;
  return indexedDataset({
    size: indices.length,
    tasks: dataset.tasks,
    ...(dataset.stochastic ? { stochastic: true } : {}),
    description: 'subset',
    get: (i) => dataset.get(at(i)),
    labelsAt: (i) => dataset.labelsAt(at(i)),
  });
}
