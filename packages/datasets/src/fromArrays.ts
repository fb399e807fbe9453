import type { Dataset, Example, Target } from './dataset';

export interface FromArraysOptions {
  /** Shape of one input, e.g. [32, 32, 3]. */
  inputShape: readonly number[];
  /** Flat inputs, one Float32Array of size prod(inputShape) per example. */
  inputs: readonly Float32Array[];
  /** Per task, one target per example (null = missing). */
  targets: Readonly<Record<string, readonly Target[]>>;
  /** Example ids; default `"0"`, `"1"`, ... */
  ids?: readonly string[];
}

/**
 * An in-memory dataset from arrays. Checks every length up front so that a mismatch is
 * reported with the task and index, not as a shape error deep inside training.
 */
export function fromArrays(options: FromArraysOptions): Dataset {
  const { inputShape, inputs, targets } = options;
  const n = inputs.length;
  const inputSize = inputShape.reduce((a, b) => a * b, 1);
  inputs.forEach((x, i) => {
    if (x.length !== inputSize) {
      throw new Error(
        `fromArrays: input ${i} has ${x.length} values, expected ${inputSize} for shape [${inputShape.join(', ')}]`,
      );
    }
  });
  const tasks = Object.keys(targets);
  for (const task of tasks) {
    const column = targets[task] ?? [];
    if (column.length !== n) {
      throw new Error(`fromArrays: task "${task}" has ${column.length} targets for ${n} inputs`);
    }
  }
  if (options.ids && options.ids.length !== n) {
    throw new Error(`fromArrays: ${options.ids.length} ids for ${n} inputs`);
  }
  return {
    size: n,
    tasks,
    async *[Symbol.asyncIterator](): AsyncGenerator<Example> {
      for (let i = 0; i < n; i++) {
        const exampleTargets: Record<string, Target> = {};
        for (const task of tasks) exampleTargets[task] = targets[task]?.[i] ?? null;
        yield {
          id: options.ids?.[i] ?? String(i),
          input: { data: inputs[i] as Float32Array, shape: inputShape },
          targets: exampleTargets,
        };
      }
    },
  };
}
