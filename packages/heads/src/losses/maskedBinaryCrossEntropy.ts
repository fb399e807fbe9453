import * as tf from '@tensorflow/tfjs-core';

/**
 * Binary cross-entropy from logits over the labels that exist.
 *
 * `logits`, `targets` and `mask` are [batch, labels]; `mask` is 1 where a label is known and
 * 0 where it is missing ("?"). A missing label contributes nothing to the loss or its
 * gradient, and the mean is over the labelled count, not the batch size, so a batch in
 * which a task is mostly unlabelled does not shrink that task's gradient. With no labels at
 * all the loss is 0.
 *
 * Uses the stable form max(z, 0) - z*y + log(1 + exp(-|z|)), which never overflows.
 */
export function maskedBinaryCrossEntropy(
  logits: tf.Tensor,
  targets: tf.Tensor,
  mask: tf.Tensor,
): tf.Scalar {
  return tf.tidy(() => {
    const perLabel = tf.add(
      tf.sub(tf.relu(logits), tf.mul(logits, targets)),
      tf.log1p(tf.exp(tf.neg(tf.abs(logits)))),
    );
    const labelled = tf.sum(mask);
    return tf.div(tf.sum(tf.mul(perLabel, mask)), tf.maximum(labelled, 1)) as tf.Scalar;
  });
}
