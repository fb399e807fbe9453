import { GraftError } from '@graft/errors';
import type { Dataset, Example, ExampleInput, IndexedDataset } from '../dataset';
import { isIndexed } from '../dataset';
import { indexedDataset } from '../indexedDataset';
import { createRng, mixSeed, type Rng } from '../random';

/**
 * What a transform gets besides the input: the example's own seeded random stream.
 *
 * @example
 * ```ts
 * const noise: Transform = {
 *   name: 'noise',
 *   random: true,
 *   apply: (input, { rng }: TransformContext) => ({ data: input.data.map((v) => v + 0.01 * (rng.next() - 0.5)), shape: input.shape }),
 * };
 * ```
 */
export interface TransformContext {
  /** This example's own random stream: a pure function of (seed, epoch, example index). */
  rng: Rng;
}

/**
 * One step of input preprocessing or augmentation. Transforms work on HWC float images
 * and leave targets alone (flips and crops keep presence labels true).
 *
 * @example
 * ```ts
 * const invert: Transform = {
 *   name: 'invert',
 *   random: false,
 *   apply: (input) => ({ data: input.data.map((v) => 1 - v), shape: input.shape }),
 * };
 * ```
 */
export interface Transform {
  readonly name: string;
  /** True for augmentations: the output depends on the random stream. */
  readonly random: boolean;
  apply(input: ExampleInput, context: TransformContext): ExampleInput;
}

/**
 * Options of {@link mapExamples}: the seed of random transforms, and the epoch mixed into it.
 *
 * @example
 * ```ts
 * const augmented = mapExamples(data, [randomFlip()], { seed: 1, epoch: 2 } satisfies MapExamplesOptions);
 * ```
 */
export interface MapExamplesOptions {
  /** Seeds random transforms; required when any transform is random. */
  seed?: number;
  /** Mixed into each example's stream, so augmentations differ from epoch to epoch. Default 0. */
  epoch?: number;
}

/**
 * Applies transforms in order to every example's input, lazily (on load, one example at a
 * time). Example i's random draws depend only on (seed, epoch, i): the same seed gives the
 * same augmented bytes in any order. The result is `stochastic` when a transform is random,
 * which is what keeps a feature cache from freezing one augmentation.
 *
 * @example
 * ```ts
 * const ready = mapExamples(data, [randomFlip(), ...fitToBackbone(pre)], { seed: 1 });
 * ```
 */
export function mapExamples<D extends Dataset>(
  dataset: D,
  transforms: readonly Transform[],
  options: MapExamplesOptions = {},
): D extends IndexedDataset ? IndexedDataset : Dataset {
  const random = transforms.some((t) => t.random);
  if (random && options.seed === undefined) {
    throw new GraftError('INVALID_ARGUMENT', 'random transforms need a seed', {
      where: `mapExamples(${transforms
        .filter((t) => t.random)
        .map((t) => t.name)
        .join(', ')})`,
      hint: 'Pass { seed } so the same seed gives the same augmentation.',
    });
  }
  const seed = options.seed ?? 0;
  const epoch = options.epoch ?? 0;
  const run = (example: Example, index: number): Example => {
    const context = { rng: createRng(mixSeed(seed, epoch, index, 2)) };
    let input = example.input;
    for (const t of transforms) input = t.apply(input, context);
    return { ...example, input };
  };
  const stochastic = random || dataset.stochastic === true;
  if (isIndexed(dataset)) {
    const source = dataset;
    return indexedDataset({
      size: source.size,
      tasks: source.tasks,
      stochastic,
      description: `mapExamples(${transforms.map((t) => t.name).join(', ')})`,
      labelsAt: (i) => source.labelsAt(i),
      get: async (i) => run(await source.get(i), i),
    }) as D extends IndexedDataset ? IndexedDataset : Dataset;
  }
  const mapped: Dataset = {
    size: dataset.size,
    tasks: dataset.tasks,
    ...(stochastic ? { stochastic: true } : {}),
    async *[Symbol.asyncIterator]() {
      let i = 0;
      for await (const example of dataset) yield run(example, i++);
    },
  };
  return mapped as D extends IndexedDataset ? IndexedDataset : Dataset;
}

/** Reads an HWC image shape, refusing anything else with a clear error. */
export function imageShape(input: ExampleInput, transform: string): [number, number, number] {
  const [h, w, c] = input.shape;
  if (input.shape.length !== 3 || h === undefined || w === undefined || c === undefined) {
    throw new GraftError(
      'SHAPE_MISMATCH',
      `expects an image [height, width, channels], got [${input.shape.join(', ')}]`,
      {
        where: transform,
      },
    );
  }
  return [h, w, c];
}
