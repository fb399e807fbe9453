import { GraftError } from '@graft/errors';
import * as tf from '@tensorflow/tfjs-core';
import {
  type BinaryCrossEntropyOptions,
  type FocalOptions,
  maskedBinaryCrossEntropy,
} from '../losses/maskedBinaryCrossEntropy';
import {
  checkMaskValues,
  checkNames,
  type HeadBase,
  type HeadOptions,
  resolveHeadOptions,
  shapeText,
  targetMismatch,
} from './taskHead';

/**
 * Options of {@link multiLabel}: the label names, positive weights or focal loss for rare
 * labels, the decision threshold, plus the common head options.
 *
 * @example
 * ```ts
 * const options: MultiLabelOptions = {
 *   labels: ['pedestrian', 'car', 'stopSign'],
 *   positiveWeight: [1, 1, 8],
 *   pooling: 'max',
 * };
 * ```
 */
export interface MultiLabelOptions extends HeadOptions {
  /** One name per label; an image may carry any subset of them. */
  labels: readonly string[];
  /** Extra weight on positives, one number or one per label (for rare labels). */
  positiveWeight?: number | readonly number[];
  /** Focal loss for rare labels. */
  focal?: FocalOptions;
  /** Decision threshold on the sigmoid until tuned on validation data. Default 0.5. */
  threshold?: number;
}

/**
 * One sigmoid per label: an image may carry several labels at once (a pedestrian and a car
 * and a stop sign), which is why this is not softmax. Targets `[batch, labels]` of 0/1, mask
 * the same shape, so each label of each image may be missing on its own.
 *
 * @example
 * ```ts
 * const head: MultiLabelHead = multiLabel({ labels: ['pedestrian', 'car'] });
 * head.threshold; // 0.5 until tuned
 * ```
 */
export interface MultiLabelHead extends HeadBase {
  readonly kind: 'multiLabel';
  readonly labels: readonly string[];
  readonly threshold: number;
  readonly lossOptions: BinaryCrossEntropyOptions;
}

/**
 * A head of independent sigmoids, one per label: any subset of the labels may apply to an image.
 *
 * @example
 * ```ts
 * const presence = multiLabel({ labels: ['pedestrian', 'car', 'stopSign'], pooling: 'max' });
 * const model = multiTaskModel({ backbone, tasks: { presence } });
 * ```
 */
export function multiLabel(options: MultiLabelOptions): MultiLabelHead {
  const where = 'multiLabel head';
  const labels = [...options.labels];
  checkNames(labels, 'labels', where);
  const threshold = options.threshold ?? 0.5;
  if (!(threshold > 0 && threshold < 1)) {
    throw new GraftError('INVALID_ARGUMENT', `threshold must be in (0, 1), got ${threshold}`, {
      where,
    });
  }
  const w = options.positiveWeight;
  if (Array.isArray(w) && w.length !== labels.length) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `positiveWeight has ${w.length} entries for ${labels.length} labels`,
      { where },
    );
  }
  const lossOptions: BinaryCrossEntropyOptions = {
    ...(w !== undefined ? { positiveWeight: w } : {}),
    ...(options.focal ? { focal: options.focal } : {}),
  };
  const common = resolveHeadOptions(options, where);
  return {
    kind: 'multiLabel',
    labels,
    threshold,
    lossOptions,
    ...common,
    units: labels.length,
    outputNames: labels,
    loss: (outputs, targets, mask) => maskedBinaryCrossEntropy(outputs, targets, mask, lossOptions),
    predict: (outputs) => tf.sigmoid(outputs),
    checkShapes(targets, mask, batch, task) {
      const expected = [batch, labels.length];
      for (const [name, t] of [
        ['targets', targets],
        ['mask', mask],
      ] as const) {
        if (!tf.util.arraysEqual(t.shape, expected)) {
          throw targetMismatch(
            task,
            `Multi-label ${name} should be ${shapeText(expected)} (labels ${labels.join(', ')}), got ${shapeText(t.shape)}`,
            "One column per label, in the head's label order; check that the dataset's labels match the head's.",
          );
        }
      }
    },
    checkValues(targets, mask, task) {
      checkMaskValues(mask, task);
      for (let i = 0; i < targets.length; i++) {
        const y = targets[i] as number;
        if (mask[i] === 1 && !(y >= 0 && y <= 1)) {
          const label = labels[i % labels.length];
          throw targetMismatch(
            task,
            `Label "${label}" of example ${Math.floor(i / labels.length)} is ${y}; multi-label targets are 0 or 1`,
            'Mark a missing label with mask 0 instead of a special value.',
          );
        }
      }
    },
    describe: () => ({
      kind: 'multiLabel',
      labels,
      ...common,
      units: labels.length,
      loss: { type: 'binaryCrossEntropy', ...lossOptions },
    }),
  };
}
