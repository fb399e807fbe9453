import { GraftError } from '@graft/errors';
import * as tf from '@tensorflow/tfjs-core';
import {
  maskedSoftmaxCrossEntropy,
  type SoftmaxCrossEntropyOptions,
} from '../losses/maskedSoftmaxCrossEntropy';
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
 * Options of {@link classification}: the class names, plus the common head options and the
 * softmax loss's label smoothing and class weights.
 *
 * @example
 * ```ts
 * const options: ClassificationOptions = {
 *   classes: ['red', 'yellow', 'green'],
 *   hidden: [32],
 *   labelSmoothing: 0.1,
 * };
 * ```
 */
export interface ClassificationOptions extends HeadOptions, SoftmaxCrossEntropyOptions {
  /** Class names; exactly one applies per example. At least two. */
  classes: readonly string[];
}

/**
 * Softmax over exclusive classes (the traffic light is red, or yellow, or green). Targets are
 * class indices, `[batch]` or `[batch, 1]`, with a mask of the same shape.
 *
 * @example
 * ```ts
 * const head: ClassificationHead = classification({ classes: ['red', 'yellow', 'green'] });
 * head.units; // 3
 * ```
 */
export interface ClassificationHead extends HeadBase {
  readonly kind: 'classification';
  readonly classes: readonly string[];
  readonly lossOptions: SoftmaxCrossEntropyOptions;
}

/**
 * A softmax head over exclusive classes: exactly one class per example (or none known).
 *
 * @example
 * ```ts
 * const lightColour = classification({ classes: ['red', 'yellow', 'green'], hidden: [32] });
 * const model = multiTaskModel({ backbone, tasks: { lightColour } });
 * ```
 */
export function classification(options: ClassificationOptions): ClassificationHead {
  const where = 'classification head';
  const classes = [...options.classes];
  checkNames(classes, 'classes', where, 2);
  const lossOptions: SoftmaxCrossEntropyOptions = {
    ...(options.labelSmoothing !== undefined ? { labelSmoothing: options.labelSmoothing } : {}),
    ...(options.classWeights ? { classWeights: [...options.classWeights] } : {}),
  };
  const smoothing = options.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing < 1)) {
    throw new GraftError('INVALID_ARGUMENT', `labelSmoothing must be in [0, 1), got ${smoothing}`, {
      where,
    });
  }
  if (options.classWeights && options.classWeights.length !== classes.length) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `classWeights has ${options.classWeights.length} entries for ${classes.length} classes`,
      { where },
    );
  }
  const common = resolveHeadOptions(options, where);
  const isIndexShape = (shape: readonly number[], batch: number) =>
    tf.util.arraysEqual([...shape], [batch]) || tf.util.arraysEqual([...shape], [batch, 1]);
  return {
    kind: 'classification',
    classes,
    lossOptions,
    ...common,
    units: classes.length,
    outputNames: classes,
    loss: (outputs, targets, mask) =>
      maskedSoftmaxCrossEntropy(outputs, targets, mask, lossOptions),
    predict: (outputs) => tf.softmax(outputs),
    checkShapes(targets, mask, batch, task) {
      for (const [name, t] of [
        ['targets', targets],
        ['mask', mask],
      ] as const) {
        if (!isIndexShape(t.shape, batch)) {
          throw targetMismatch(
            task,
            `Classification ${name} should be [${batch}] or [${batch}, 1] (one class index per example), got ${shapeText(t.shape)}`,
            `Give the index into the head's classes (${classes.join(', ')}), not a one-hot row.`,
          );
        }
      }
    },
    checkValues(targets, mask, task) {
      checkMaskValues(mask, task);
      for (let i = 0; i < targets.length; i++) {
        const y = targets[i] as number;
        if (mask[i] === 1 && !(Number.isInteger(y) && y >= 0 && y < classes.length)) {
          throw targetMismatch(
            task,
            `Example ${i} has class index ${y}, but the head has ${classes.length} classes (${classes.join(', ')})`,
            "The dataset's classes do not match the head's; build the head from the dataset's task spec.",
          );
        }
      }
    },
    describe: () => ({
      kind: 'classification',
      classes,
      ...common,
      units: classes.length,
      loss: { type: 'softmaxCrossEntropy', ...lossOptions },
    }),
  };
}
