import type { Dataset, ExampleLabels, Target } from '../dataset';
import { isIndexed } from '../dataset';
import type { TaskKind, TaskSpec } from '../taskSpec';

/**
 * How often one label (or class) is known, and positive, in a dataset.
 *
 * @example
 * ```ts
 * const stats = await labelStats(data);
 * const presence = stats.tasks.presence;
 * for (const l of presence?.labels ?? []) console.log(l.label, l.positives, '/', l.labelled);
 * ```
 */
export interface LabelCount {
  label: string;
  /** Examples where this label is known. */
  labelled: number;
  /** Of those, how many are 1. */
  positives: number;
  /** positives / labelled (NaN when nothing is labelled). */
  positiveRate: number;
}

/**
 * Summary of one regression output's known values: count, mean, standard deviation, range.
 *
 * @example
 * ```ts
 * const stats = await labelStats(data);
 * const [cars] = stats.tasks.carCount?.outputs ?? [];
 * console.log(cars?.mean, cars?.min, cars?.max);
 * ```
 */
export interface OutputSummary {
  labelled: number;
  mean: number;
  std: number;
  min: number;
  max: number;
}

/**
 * One task's label statistics: how many examples are labelled and missing, per-label counts,
 * and regression summaries.
 *
 * @example
 * ```ts
 * const { labelled, missing } = (await labelStats(data)).tasks.presence as TaskLabelStats;
 * ```
 */
export interface TaskLabelStats {
  kind: TaskKind;
  /** Examples with at least one known label for this task. */
  labelled: number;
  /** Examples where the whole target is missing. */
  missing: number;
  /** labelled / examples. */
  labelledFraction: number;
  /** multiLabel: per label. */
  labels?: LabelCount[];
  /** classification: class name -> examples. */
  classCounts?: Record<string, number>;
  /** regression: per output. */
  outputs?: OutputSummary[];
}

/**
 * Label statistics of a dataset: the example count and, per task, {@link TaskLabelStats}.
 *
 * @example
 * ```ts
 * const stats: LabelStats = await labelStats(data);
 * console.log(stats.examples, Object.keys(stats.tasks));
 * ```
 */
export interface LabelStats {
  examples: number;
  tasks: Record<string, TaskLabelStats>;
}

/**
 * Per task: how many examples are labelled and missing, the positive rate of each label,
 * class counts, and regression value summaries. Indexed datasets are read through
 * `labelsAt` (no input is loaded); others are iterated once.
 *
 * @example
 * ```ts
 * const stats = await labelStats(data);
 * stats.tasks.carCount?.missing; // examples without a car count
 * ```
 */
export async function labelStats(dataset: Dataset): Promise<LabelStats> {
  const accumulators = Object.entries(dataset.tasks).map(
    ([task, spec]) => [task, accumulator(spec)] as const,
  );
  const add = (l: ExampleLabels): void => {
    for (const [task, acc] of accumulators) acc.add(l.targets[task] ?? null);
  };
  let examples = 0;
  if (isIndexed(dataset)) {
    for (let i = 0; i < dataset.size; i++) add(dataset.labelsAt(i));
    examples = dataset.size;
  } else {
    for await (const e of dataset) {
      add(e);
      examples++;
    }
  }
  const tasks: Record<string, TaskLabelStats> = {};
  for (const [task, acc] of accumulators) tasks[task] = acc.result(examples);
  return { examples, tasks };
}

interface Accumulator {
  add(target: Target): void;
  result(examples: number): TaskLabelStats;
}

function accumulator(spec: TaskSpec): Accumulator {
  let labelled = 0;
  const base = (examples: number) => ({
    kind: spec.kind,
    labelled,
    missing: examples - labelled,
    labelledFraction: examples === 0 ? 0 : labelled / examples,
  });
  const entries = (t: Target): readonly (number | null)[] =>
    t === null ? [] : typeof t === 'number' ? [t] : t;
  switch (spec.kind) {
    case 'multiLabel': {
      const known = new Array<number>(spec.labels.length).fill(0);
      const positive = new Array<number>(spec.labels.length).fill(0);
      return {
        add(t) {
          const e = entries(t);
          if (!e.some((v) => v !== null)) return;
          labelled++;
          e.forEach((v, k) => {
            if (v === null) return;
            known[k] = (known[k] ?? 0) + 1;
            positive[k] = (positive[k] ?? 0) + v;
          });
        },
        result: (examples) => ({
          ...base(examples),
          labels: spec.labels.map((label, k) => ({
            label,
            labelled: known[k] ?? 0,
            positives: positive[k] ?? 0,
            positiveRate: (positive[k] ?? 0) / (known[k] ?? 0),
          })),
        }),
      };
    }
    case 'classification': {
      const counts = new Array<number>(spec.classes.length).fill(0);
      return {
        add(t) {
          if (typeof t !== 'number') return;
          labelled++;
          counts[t] = (counts[t] ?? 0) + 1;
        },
        result: (examples) => ({
          ...base(examples),
          classCounts: Object.fromEntries(spec.classes.map((c, k) => [c, counts[k] ?? 0])),
        }),
      };
    }
    case 'regression': {
      const n = new Array<number>(spec.outputs).fill(0);
      const sum = new Array<number>(spec.outputs).fill(0);
      const sq = new Array<number>(spec.outputs).fill(0);
      const min = new Array<number>(spec.outputs).fill(Number.POSITIVE_INFINITY);
      const max = new Array<number>(spec.outputs).fill(Number.NEGATIVE_INFINITY);
      return {
        add(t) {
          const e = entries(t);
          if (!e.some((v) => v !== null)) return;
          labelled++;
          e.forEach((v, k) => {
            if (v === null) return;
            n[k] = (n[k] ?? 0) + 1;
            sum[k] = (sum[k] ?? 0) + v;
            sq[k] = (sq[k] ?? 0) + v * v;
            min[k] = Math.min(min[k] ?? v, v);
            max[k] = Math.max(max[k] ?? v, v);
          });
        },
        result: (examples) => ({
          ...base(examples),
          outputs: n.map((count, k) => {
            const mean = (sum[k] ?? 0) / count;
            return {
              labelled: count,
              mean,
              std: Math.sqrt(Math.max(0, (sq[k] ?? 0) / count - mean * mean)),
              min: min[k] ?? Number.NaN,
              max: max[k] ?? Number.NaN,
            };
          }),
        }),
      };
    }
  }
}
