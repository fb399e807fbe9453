import { GraftError } from '@graft/errors';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Mean of `perEntry` over the entries whose mask is 1: missing entries add nothing to the sum
 * or its gradient, and the divisor is the labelled count, not the batch size, so a batch in
 * which a task is mostly unlabelled does not shrink that task's gradient. No labels: 0.
 *
 * @example
 * ```ts
 * const perEntry = tf.tensor1d([0.2, 0.4, 9]);
 * const mask = tf.tensor1d([1, 1, 0]);
 * maskedMean(perEntry, mask).dataSync(); // [0.3]: the missing entry adds nothing
 * ```
 */
export function maskedMean(perEntry: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.tidy(
    () => tf.div(tf.sum(tf.mul(perEntry, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar,
  );
}

/**
 * Targets with every missing entry replaced by 0. A missing label's target is whatever the
 * batch holds there (NaN, -1, a stale value); a loss computed from it would be multiplied by
 * a zero mask, but 0 x NaN is NaN, in the loss and in its gradient. Zeroing first keeps
 * missing entries truly inert.
 */
export function knownTargets(targets: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.where(tf.greater(mask, 0), targets, tf.zerosLike(targets)));
}

/** Throws SHAPE_MISMATCH unless the tensors have the same shape. */
export function sameShape(loss: string, named: Readonly<Record<string, tf.Tensor>>): void {
  const entries = Object.entries(named);
  const [firstName, first] = entries[0] as [string, tf.Tensor];
  for (const [name, t] of entries.slice(1)) {
    if (!tf.util.arraysEqual(t.shape, first.shape)) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `${loss}: ${name} has shape [${t.shape.join(', ')}] but ${firstName} has [${first.shape.join(', ')}]`,
        { where: loss, hint: 'Outputs, targets and mask must have the same shape.' },
      );
    }
  }
}
