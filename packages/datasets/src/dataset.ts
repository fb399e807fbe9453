import type { TaskSpecs } from './taskSpec';

/**
 * An image (or any array input) as graft's pipeline sees it before batching: a flat
 * Float32Array in HWC order with its shape. Images from adapters and generators are RGB (or
 * one grey channel) with values in [0, 1]; `normalize` maps them to a backbone's range.
 *
 * @example
 * ```ts
 * const input: ExampleInput = { data: new Float32Array(32 * 32 * 3), shape: [32, 32, 3] };
 * ```
 */
export interface ExampleInput {
  data: Float32Array;
  shape: readonly number[];
}

/**
 * A target for one task (see `TaskSpec` for its form per kind). `null` means the label is
 * missing (a "?" in the source notes' label matrix): it contributes nothing to that task's
 * loss. Inside a multi-label (or multi-output) target, single entries may be `null` too.
 *
 * @example
 * ```ts
 * const presence: Target = [1, 0, null, 1]; // multi-label: the third label is missing
 * const lightColour: Target = 2; // class index
 * const carCount: Target = null; // missing
 * ```
 */
export type Target = number | readonly (number | null)[] | null;

/**
 * One target per task name.
 *
 * @example
 * ```ts
 * const targets: Targets = { presence: [1, 0, 0, 1], lightColour: null, carCount: 2 };
 * ```
 */
export type Targets = Readonly<Record<string, Target>>;

/**
 * One example: its id, its input, and one (possibly `null`) target per task.
 *
 * @example
 * ```ts
 * const example: Example = await data.get(0);
 * console.log(example.id, example.input.shape, example.targets.presence); // e.g. [1, 0, null, 1]
 * ```
 */
export interface Example {
  id: string;
  input: ExampleInput;
  /** One entry per task name in the dataset's `tasks`. */
  targets: Targets;
}

/**
 * An example's id and targets without its input, for splits and label statistics.
 *
 * @example
 * ```ts
 * const labels: ExampleLabels = data.labelsAt(0); // { id, targets }, no image decoded
 * ```
 */
export interface ExampleLabels {
  id: string;
  targets: Targets;
}

/**
 * The contract every adapter and generator returns: a known size, the tasks its targets are
 * for, and async iteration, so a dataset larger than memory can stream.
 *
 * @example
 * ```ts
 * async function countExamples(ds: Dataset): Promise<number> {
 *   let n = 0;
 *   for await (const example of ds) if (example.id) n++;
 *   return n; // === ds.size
 * }
 * ```
 */
export interface Dataset {
  readonly size: number;
  /** Task name -> what its targets are. Every example carries a (possibly null) target per task. */
  readonly tasks: TaskSpecs;
  /**
   * True when examples differ from pass to pass or carry random augmentation; a feature
   * cache refuses such data because cached features would freeze one random draw.
   */
  readonly stochastic?: boolean;
  [Symbol.asyncIterator](): AsyncIterator<Example>;
}

/**
 * A dataset that can load any example by position. All of graft's adapters and generators
 * are indexed: inputs load on demand (so memory stays bounded), labels are known up front
 * (so splits and statistics never decode an image).
 *
 * @example
 * ```ts
 * const data: IndexedDataset = drivingScenes({ count: 100, seed: 1 });
 * const example = await data.get(42);
 * const { targets } = data.labelsAt(42); // labels without loading the input
 * ```
 */
export interface IndexedDataset extends Dataset {
  /** Loads example `index` (0 <= index < size); may read and decode a file. */
  get(index: number): Promise<Example>;
  /** Example `index`'s id and targets without loading its input. */
  labelsAt(index: number): ExampleLabels;
}

/**
 * Whether a dataset loads examples by position (`get`, `labelsAt`): what splits, subsets and
 * the feature cache need.
 *
 * @example
 * ```ts
 * if (isIndexed(data)) console.log(data.labelsAt(0));
 * ```
 */
export function isIndexed(dataset: Dataset): dataset is IndexedDataset {
  const d = dataset as Partial<IndexedDataset>;
  return typeof d.get === 'function' && typeof d.labelsAt === 'function';
}
