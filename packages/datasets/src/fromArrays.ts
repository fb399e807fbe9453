import { GraftError } from '@graft/errors';
import type { IndexedDataset, Target } from './dataset';
import { indexedDataset } from './indexedDataset';
import { type TaskSpecs, targetProblem } from './taskSpec';

/**
 * Options of {@link fromArrays}: the input shape, the flat inputs, the task specs, the targets
 * per task, and optional ids.
 *
 * @example
 * ```ts
 * const options: FromArraysOptions = {
 *   inputShape: [2, 2, 1],
 *   inputs: [new Float32Array([0, 1, 1, 0]), new Float32Array([1, 1, 0, 0])],
 *   tasks: { isDiagonal: { kind: 'multiLabel', labels: ['diagonal'] } },
 *   targets: { isDiagonal: [[1], [null]] },
 * };
 * ```
 */
export interface FromArraysOptions {
  /** Shape of one input, e.g. [32, 32, 3]. */
  inputShape: readonly number[];
  /** Flat inputs, one Float32Array of size prod(inputShape) per example. */
  inputs: readonly Float32Array[];
  /** What each task predicts; key order is task order. */
  tasks: TaskSpecs;
  /** Per task, one target per example (null = missing). */
  targets: Readonly<Record<string, readonly Target[]>>;
  /** Example ids; default `"0"`, `"1"`, ... */
  ids?: readonly string[];
}

/**
 * An in-memory dataset from arrays. Checks every length and every target up front so that a
 * mismatch is reported with the task and index, not as a shape error deep inside training.
 *
 * @example
 * ```ts
 * const data = fromArrays({
 *   inputShape: [2, 2, 1],
 *   inputs: [new Float32Array([0, 1, 1, 0]), new Float32Array([1, 1, 0, 0])],
 *   tasks: { value: { kind: 'regression', outputs: 1 } },
 *   targets: { value: [0.5, null] }, // the second label is missing
 * });
 * ```
 */
export function fromArrays(options: FromArraysOptions): IndexedDataset {
  const { inputShape, inputs, targets, tasks } = options;
  const n = inputs.length;
  const inputSize = inputShape.reduce((a, b) => a * b, 1);
  inputs.forEach((x, i) => {
    if (x.length !== inputSize) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `input ${i} has ${x.length} values, expected ${inputSize} for shape [${inputShape.join(', ')}]`,
        { where: 'fromArrays' },
      );
    }
  });
  const names = Object.keys(tasks);
  for (const task of Object.keys(targets)) {
    if (!(task in tasks)) {
      throw new GraftError(
        'INVALID_ARGUMENT',
        `targets for task "${task}" that tasks does not declare`,
        {
          where: 'fromArrays',
          hint: `Declare it in tasks (declared: ${names.join(', ') || 'none'}).`,
        },
      );
    }
  }
  for (const task of names) {
    const column = targets[task];
    if (column === undefined) {
      throw new GraftError('INVALID_ARGUMENT', `task "${task}" has no targets`, {
        where: 'fromArrays',
        hint: 'Pass one target per input (null where the label is missing).',
      });
    }
    if (column.length !== n) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `task "${task}" has ${column.length} targets for ${n} inputs`,
        {
          where: 'fromArrays',
        },
      );
    }
    const spec = tasks[task];
    column.forEach((target, i) => {
      const problem = spec && targetProblem(spec, target);
      if (problem) {
        throw new GraftError(
          'DATASET_LABEL_UNKNOWN',
          `task "${task}" target ${i} is ${JSON.stringify(target)}: ${problem}`,
          {
            where: 'fromArrays',
          },
        );
      }
    });
  }
  if (options.ids && options.ids.length !== n) {
    throw new GraftError('SHAPE_MISMATCH', `${options.ids.length} ids for ${n} inputs`, {
      where: 'fromArrays',
    });
  }
  const labelsAt = (i: number) => {
    const exampleTargets: Record<string, Target> = {};
    for (const task of names) exampleTargets[task] = targets[task]?.[i] ?? null;
    return { id: options.ids?.[i] ?? String(i), targets: exampleTargets };
  };
  return indexedDataset({
    size: n,
    tasks,
    description: 'fromArrays',
    labelsAt,
    async get(i) {
      return { ...labelsAt(i), input: { data: inputs[i] as Float32Array, shape: inputShape } };
    },
  });
}
