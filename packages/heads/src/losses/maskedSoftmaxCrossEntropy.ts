import { GraftError } from '@graft/errors';
import * as tf from '@tensorflow/tfjs-core';
import { knownTargets, maskedMean } from './maskedMean';

/**
 * Options of {@link maskedSoftmaxCrossEntropy}: label smoothing and per-class weights.
 *
 * @example
 * ```ts
 * const options: SoftmaxCrossEntropyOptions = { labelSmoothing: 0.1, classWeights: [1, 3, 1] };
 * const loss = maskedSoftmaxCrossEntropy(logits, classIndex, mask, options);
 * ```
 */
export interface SoftmaxCrossEntropyOptions {
  /** Spread this much of the target probability evenly over all classes. Default 0. */
  labelSmoothing?: number;
  /**
   * Weight per class, applied by each example's true class (as Keras's `class_weight`); the
   * mean still divides by the labelled count. Default: all 1.
   */
  classWeights?: readonly number[];
}

/**
 * Softmax cross-entropy for one exclusive class per example, over the examples that have a
 * label. `logits` is [batch, classes]; `classIndex` and `mask` are [batch] (or [batch, 1]),
 * the index being any number where the mask is 0. Mean over labelled examples; 0 when none.
 *
 * @example
 * ```ts
 * const logits = tf.tensor2d([[2, 0, -1], [0, 1, 0]]);
 * const classIndex = tf.tensor1d([0, -1]); // any number where the label is missing
 * const mask = tf.tensor1d([1, 0]);
 * const loss = maskedSoftmaxCrossEntropy(logits, classIndex, mask); // example 1 only
 * ```
 */
export function maskedSoftmaxCrossEntropy(
  logits: tf.Tensor,
  classIndex: tf.Tensor,
  mask: tf.Tensor,
  options: SoftmaxCrossEntropyOptions = {},
): tf.Scalar {
  const where = 'maskedSoftmaxCrossEntropy';
  const batch = logits.shape[0] ?? 0;
  const classes = logits.shape[1] ?? 0;
  if (logits.rank !== 2 || classes < 2) {
    throw new GraftError(
      'SHAPE_MISMATCH',
      `logits must be [batch, classes >= 2], got [${logits.shape.join(', ')}]`,
      { where },
    );
  }
  for (const [name, t] of [
    ['classIndex', classIndex],
    ['mask', mask],
  ] as const) {
    if (t.size !== batch || (t.rank !== 1 && !(t.rank === 2 && t.shape[1] === 1))) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `${name} must be [${batch}] or [${batch}, 1], got [${t.shape.join(', ')}]`,
        { where },
      );
    }
  }
  const smoothing = options.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing < 1)) {
    throw new GraftError('INVALID_ARGUMENT', `labelSmoothing must be in [0, 1), got ${smoothing}`, {
      where,
    });
  }
  const weights = options.classWeights;
  if (weights && weights.length !== classes) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `classWeights has ${weights.length} entries for ${classes} classes`,
      { where },
    );
  }
  return tf.tidy(() => {
    const m = tf.reshape(mask, [batch]);
    const index = tf.cast(knownTargets(tf.reshape(classIndex, [batch]), m), 'int32');
    const oneHot = tf.cast(tf.oneHot(index as tf.Tensor1D, classes), 'float32');
    const target =
      smoothing > 0 ? tf.add(tf.mul(oneHot, 1 - smoothing), smoothing / classes) : oneHot;
    let perExample = tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1));
    if (weights)
      perExample = tf.mul(perExample, tf.sum(tf.mul(oneHot, tf.tensor1d([...weights])), 1));
    return maskedMean(perExample, m);
  });
}
