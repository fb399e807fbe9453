import { GraftError } from '@graft/errors';
import type { Example, ExampleLabels } from '../dataset';
import { type TaskSpec, type TaskSpecs, targetWidth } from '../taskSpec';

/**
 * One task's targets for a batch as plain arrays, before they become tensors.
 * - multiLabel: `values` [batch, labels] 0/1 floats, `mask` [batch, labels];
 * - classification: `values` [batch] int32 class indices, `mask` [batch];
 * - regression: `values` [batch, outputs] floats, `mask` [batch, outputs].
 * `mask` is 1 where the label exists and 0 where it is missing; a missing value is 0.
 *
 * @example
 * ```ts
 * const { values, mask, shape }: HostTaskTargets = collate(examples, data.tasks).targets.presence!;
 * ```
 */
export interface HostTaskTargets {
  values: Float32Array | Int32Array;
  mask: Float32Array;
  shape: number[];
}

/**
 * A batch as plain arrays: what prefetch holds, so memory outside tfjs stays countable.
 *
 * @example
 * ```ts
 * const host: HostBatch = collate(examples, data.tasks);
 * host.xShape; // [examples.length, ...inputShape]
 * ```
 */
export interface HostBatch {
  ids: string[];
  /** Inputs back to back, [batch, ...inputShape]. */
  x: Float32Array;
  xShape: number[];
  targets: Record<string, HostTaskTargets>;
}

/** Fills `targets`' row `row` for task `task` from one example's target. */
function writeTarget(
  task: string,
  spec: TaskSpec,
  labels: ExampleLabels,
  row: number,
  out: HostTaskTargets,
): void {
  const target = labels.targets[task] ?? null;
  if (target === null) return; // values and mask stay 0
  const width = targetWidth(spec);
  if (spec.kind === 'classification') {
    out.values[row] = target as number;
    out.mask[row] = 1;
    return;
  }
  const entries = typeof target === 'number' ? [target] : target;
  if (entries.length !== width) {
    throw new GraftError(
      'SHAPE_MISMATCH',
      `task "${task}" target has ${entries.length} values, expected ${width}`,
      {
        where: `example ${labels.id}`,
      },
    );
  }
  for (let k = 0; k < width; k++) {
    const v = entries[k];
    if (v === null || v === undefined) continue;
    out.values[row * width + k] = v;
    out.mask[row * width + k] = 1;
  }
}

export function emptyTaskTargets(spec: TaskSpec, batch: number): HostTaskTargets {
  if (spec.kind === 'classification') {
    return { values: new Int32Array(batch), mask: new Float32Array(batch), shape: [batch] };
  }
  const width = targetWidth(spec);
  return {
    values: new Float32Array(batch * width),
    mask: new Float32Array(batch * width),
    shape: [batch, width],
  };
}

/**
 * Per-task target and mask arrays for a list of examples' labels.
 *
 * @example
 * ```ts
 * const targets = collateTargets([data.labelsAt(0), data.labelsAt(1)], data.tasks);
 * targets.carCount?.mask; // 0 where the car count is missing
 * ```
 */
export function collateTargets(
  labels: readonly ExampleLabels[],
  tasks: TaskSpecs,
): Record<string, HostTaskTargets> {
  const out: Record<string, HostTaskTargets> = {};
  for (const [task, spec] of Object.entries(tasks)) {
    const t = emptyTaskTargets(spec, labels.length);
    labels.forEach((l, row) => {
      writeTarget(task, spec, l, row, t);
    });
    out[task] = t;
  }
  return out;
}

/**
 * Stacks examples (all of one input shape) into a host batch.
 *
 * @example
 * ```ts
 * const examples = await Promise.all([0, 1, 2].map((i) => data.get(i)));
 * const host = collate(examples, data.tasks); // x [3, ...inputShape], per-task values and masks
 * ```
 */
export function collate(examples: readonly Example[], tasks: TaskSpecs): HostBatch {
  const first = examples[0];
  if (!first) throw new GraftError('DATASET_EMPTY', 'Cannot make a batch of no examples', {});
  const shape = first.input.shape;
  const size = first.input.data.length;
  const x = new Float32Array(size * examples.length);
  examples.forEach((e, i) => {
    if (e.input.data.length !== size || !sameShape(e.input.shape, shape)) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `input shape [${e.input.shape.join(', ')}] differs from the batch's [${shape.join(', ')}]`,
        {
          where: `example ${e.id}`,
          hint: 'Resize inputs to one size first, e.g. mapExamples(ds, [resize({ height, width })]).',
        },
      );
    }
    x.set(e.input.data, i * size);
  });
  return {
    ids: examples.map((e) => e.id),
    x,
    xShape: [examples.length, ...shape],
    targets: collateTargets(examples, tasks),
  };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
