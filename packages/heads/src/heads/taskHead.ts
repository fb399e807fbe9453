import { GraftError } from '@graft/errors';
import type * as tf from '@tensorflow/tfjs-core';
import type { ClassificationHead } from './classification';
import type { MultiLabelHead } from './multiLabel';
import type { RegressionHead } from './regression';

/**
 * How a head is built and where it reads the trunk; shared by every head type.
 *
 * @example
 * ```ts
 * const common: HeadOptions = { hidden: [64], dropout: 0.2, attachAt: 'block_13', pooling: 'max' };
 * const presence = multiLabel({ ...common, labels: ['car', 'bus'] });
 * ```
 */
export interface HeadOptions {
  /** Hidden layer sizes of a small MLP (ReLU); empty or absent: a linear head. */
  hidden?: readonly number[];
  /** Dropout rate before each Dense layer while training. Default 0. */
  dropout?: number;
  /**
   * The trunk layer or block the head reads (e.g. `block_13`), so a task can branch off
   * earlier features. Default: the trunk's output. Spatial features are average-pooled.
   */
  attachAt?: string;
  /**
   * How spatial features become a vector: `average` (default) or `max`. Max pooling suits
   * presence labels ("is there a stop sign anywhere"): a small object is not averaged away.
   */
  pooling?: 'average' | 'max';
}

/**
 * What every head carries, whatever its type.
 *
 * @example
 * ```ts
 * const head: HeadBase = multiLabel({ labels: ['car', 'bus'] });
 * const probabilities = head.predict(rawOutputs); // sigmoid of [batch, 2]
 * ```
 */
export interface HeadBase {
  readonly hidden: readonly number[];
  readonly dropout: number;
  readonly attachAt: string | undefined;
  readonly pooling: 'average' | 'max';
  /** Width of the head's raw output. */
  readonly units: number;
  /** One name per output unit (labels, classes, output names), for reports. */
  readonly outputNames: readonly string[];
  /** Masked loss of raw outputs against targets. */
  loss(outputs: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor): tf.Scalar;
  /** Probabilities (sigmoid, softmax) or values from raw outputs. */
  predict(outputs: tf.Tensor): tf.Tensor;
  /** Throws TARGET_MISMATCH unless targets and mask have this head's shapes for `batch`. */
  checkShapes(targets: tf.Tensor, mask: tf.Tensor, batch: number, task: string): void;
  /** Throws TARGET_MISMATCH for a labelled target this head cannot mean (host arrays). */
  checkValues(targets: ArrayLike<number>, mask: ArrayLike<number>, task: string): void;
  /** The head as `graft.json` records it. */
  describe(): Readonly<Record<string, unknown>>;
}

/**
 * A task head: one of the three kinds, told apart by `kind`.
 *
 * @example
 * ```ts
 * function describe(head: TaskHead): string {
 *   if (head.kind === 'multiLabel') return `labels ${head.labels.join(', ')}`;
 *   if (head.kind === 'classification') return `classes ${head.classes.join(', ')}`;
 *   return `${head.outputs} values`;
 * }
 * ```
 */
export type TaskHead = MultiLabelHead | ClassificationHead | RegressionHead;

/**
 * The three kinds of head: `'multiLabel'`, `'classification'`, `'regression'`.
 *
 * @example
 * ```ts
 * const kinds: HeadKind[] = Object.values(model.heads).map((h) => h.kind);
 * ```
 */
export type HeadKind = TaskHead['kind'];

/** Validated common options. */
export function resolveHeadOptions(
  options: HeadOptions,
  where: string,
): Pick<HeadBase, 'hidden' | 'dropout' | 'attachAt' | 'pooling'> {
  const hidden = [...(options.hidden ?? [])];
  for (const units of hidden) {
    if (!(Number.isInteger(units) && units >= 1)) {
      throw new GraftError(
        'INVALID_ARGUMENT',
        `hidden sizes must be whole numbers >= 1, got ${units}`,
        { where },
      );
    }
  }
  const dropout = options.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) {
    throw new GraftError('INVALID_ARGUMENT', `dropout must be in [0, 1), got ${dropout}`, {
      where,
    });
  }
  const pooling = options.pooling ?? 'average';
  if (pooling !== 'average' && pooling !== 'max') {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `pooling must be 'average' or 'max', got ${String(pooling)}`,
      { where },
    );
  }
  return { hidden, dropout, attachAt: options.attachAt, pooling };
}

/** Throws INVALID_ARGUMENT unless `names` is a non-empty list of distinct, non-empty names. */
export function checkNames(names: readonly string[], what: string, where: string, min = 1): void {
  if (names.length < min) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `A head needs at least ${min} ${what}, got ${names.length}`,
      { where },
    );
  }
  const seen = new Set<string>();
  for (const n of names) {
    if (typeof n !== 'string' || n.length === 0 || seen.has(n)) {
      throw new GraftError(
        'INVALID_ARGUMENT',
        `${what} must be distinct non-empty names; "${String(n)}" is not`,
        { where },
      );
    }
    seen.add(n);
  }
}

/** "[16, 4]" */
export const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** A TARGET_MISMATCH error for task `task`. */
export function targetMismatch(task: string, what: string, hint: string): GraftError {
  return new GraftError('TARGET_MISMATCH', what, { where: `task "${task}"`, hint });
}

/** Throws TARGET_MISMATCH for a mask entry that is not 0 or 1 (NaN included). */
export function checkMaskValues(mask: ArrayLike<number>, task: string): void {
  for (let i = 0; i < mask.length; i++) {
    const m = mask[i] as number;
    if (m !== 0 && m !== 1) {
      throw targetMismatch(
        task,
        `Mask entry ${i} is ${m}; masks hold 1 (labelled) or 0 (missing)`,
        'Build masks from the dataset batching, which marks missing labels with 0.',
      );
    }
  }
}
