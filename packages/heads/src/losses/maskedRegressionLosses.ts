import { GraftError } from '@graft/errors';
import * as tf from '@tensorflow/tfjs-core';
import { knownTargets, maskedMean, sameShape } from './maskedMean';

/**
 * Mean squared error over the known entries. `predictions`, `targets`, `mask` share a shape.
 *
 * @example
 * ```ts
 * const predictions = tf.tensor2d([[2], [5]]);
 * const targets = tf.tensor2d([[3], [0]]);
 * const mask = tf.tensor2d([[1], [0]]); // the second count is unknown
 * maskedMeanSquaredError(predictions, targets, mask).dataSync(); // [1]
 * ```
 */
export function maskedMeanSquaredError(
  predictions: tf.Tensor,
  targets: tf.Tensor,
  mask: tf.Tensor,
): tf.Scalar {
  sameShape('maskedMeanSquaredError', { predictions, targets, mask });
  return tf.tidy(() =>
    maskedMean(tf.squaredDifference(predictions, knownTargets(targets, mask)), mask),
  );
}

/**
 * Huber loss over the known entries: quadratic (0.5 e^2) within `delta` of the target,
 * linear (delta (|e| - 0.5 delta)) beyond, so outliers pull with a bounded gradient.
 *
 * @example
 * ```ts
 * const loss = maskedHuber(predictions, targets, mask, 1.5); // delta 1.5
 * ```
 */
export function maskedHuber(
  predictions: tf.Tensor,
  targets: tf.Tensor,
  mask: tf.Tensor,
  delta = 1,
): tf.Scalar {
  sameShape('maskedHuber', { predictions, targets, mask });
  if (!(delta > 0)) {
    throw new GraftError('INVALID_ARGUMENT', `delta must be positive, got ${delta}`, {
      where: 'maskedHuber',
    });
  }
  return tf.tidy(() => {
    const error = tf.abs(tf.sub(predictions, knownTargets(targets, mask)));
    const quadratic = tf.minimum(error, delta);
    const linear = tf.sub(error, quadratic);
    return maskedMean(tf.add(tf.mul(tf.square(quadratic), 0.5), tf.mul(linear, delta)), mask);
  });
}
