import { GraftError } from '@graft/errors';
import * as tf from '@tensorflow/tfjs-core';
import { knownTargets, maskedMean, sameShape } from './maskedMean';

/**
 * Focal loss settings (Lin et al. 2017) for {@link maskedBinaryCrossEntropy} and multi-label
 * heads.
 *
 * @example
 * ```ts
 * const focal: FocalOptions = { gamma: 2, alpha: 0.25 };
 * const presence = multiLabel({ labels: ['stopSign'], focal });
 * ```
 */
export interface FocalOptions {
  /** Focusing parameter: 0 is plain BCE; Lin et al. (2017) use 2. Must be 0 or >= 1. */
  gamma: number;
  /** Weight of the positive class, the negative class gets 1 - alpha. Default: none. */
  alpha?: number;
}

/**
 * Options of {@link maskedBinaryCrossEntropy}: weights on positive labels, and focal loss.
 *
 * @example
 * ```ts
 * const options: BinaryCrossEntropyOptions = { positiveWeight: [1, 19], focal: { gamma: 2 } };
 * const loss = maskedBinaryCrossEntropy(logits, targets, mask, options);
 * ```
 */
export interface BinaryCrossEntropyOptions {
  /**
   * Extra weight on positive labels (one number, or one per label): a rare label with 5%
   * positives is often given about 19 (negatives / positives). Default 1.
   */
  positiveWeight?: number | readonly number[];
  /** Focal loss (Lin et al. 2017): down-weights easy, well-classified entries. */
  focal?: FocalOptions;
}

/**
 * Binary cross-entropy from logits over the labels that exist.
 *
 * `logits`, `targets` and `mask` are [batch, labels]; `mask` is 1 where a label is known and
 * 0 where it is missing ("?"). A missing label contributes nothing to the loss or its
 * gradient, whatever its target holds, and the mean is over the labelled count, not the batch
 * size, so a batch in which a task is mostly unlabelled does not shrink that task's gradient.
 * With no labels at all the loss is 0.
 *
 * Uses the stable form max(z, 0) - z*y + log(1 + exp(-|z|)), which never overflows; with a
 * positive weight w, (1 - y) z + (1 + (w - 1) y) (log(1 + exp(-|z|)) + max(-z, 0)), as
 * TensorFlow's `weighted_cross_entropy_with_logits`.
 *
 * @example
 * ```ts
 * const logits = tf.tensor2d([[2, -1], [0.5, 3]]);
 * const targets = tf.tensor2d([[1, 0], [0, 1]]);
 * const mask = tf.tensor2d([[1, 1], [1, 0]]); // the last label of example 2 is missing
 * const loss = maskedBinaryCrossEntropy(logits, targets, mask); // mean over the 3 known labels
 * ```
 */
export function maskedBinaryCrossEntropy(
  logits: tf.Tensor,
  targets: tf.Tensor,
  mask: tf.Tensor,
  options: BinaryCrossEntropyOptions = {},
): tf.Scalar {
  sameShape('maskedBinaryCrossEntropy', { logits, targets, mask });
  const gamma = options.focal?.gamma ?? 0;
  if (!(gamma === 0 || gamma >= 1)) {
    throw new GraftError('INVALID_ARGUMENT', `focal gamma must be 0 or >= 1, got ${gamma}`, {
      where: 'maskedBinaryCrossEntropy',
      hint: 'Below 1 the focal factor has an infinite slope at perfectly classified entries.',
    });
  }
  return tf.tidy(() => {
    const y = knownTargets(targets, mask);
    const softplusNegAbs = tf.log1p(tf.exp(tf.neg(tf.abs(logits))));
    let perLabel = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, y)), softplusNegAbs);
    if (gamma > 0) {
      // p_t = exp(-bce); (1 - p_t)^gamma via expm1 keeps precision when p_t is near 1.
      const notPt = tf.neg(tf.expm1(tf.neg(perLabel)));
      perLabel = tf.mul(tf.pow(notPt, gamma), perLabel);
      const alpha = options.focal?.alpha;
      if (alpha !== undefined) {
        perLabel = tf.mul(perLabel, tf.add(tf.mul(y, 2 * alpha - 1), 1 - alpha));
      }
    }
    const w = options.positiveWeight;
    if (w !== undefined) {
      const weight = typeof w === 'number' ? tf.scalar(w) : tf.tensor1d([...w]);
      // 1 + (w - 1) y: w on positives, 1 on negatives.
      perLabel = tf.mul(perLabel, tf.add(tf.mul(y, tf.sub(weight, 1)), 1));
    }
    return maskedMean(perLabel, mask);
  });
}
