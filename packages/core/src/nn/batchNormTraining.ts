import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAIN, runBatchNormTrain } from '../kernels/batchNormTrain';
import { nativeKernelsLoaded } from '../native/nativeKernels';
import { clippedRelu } from './relu';

/**
 * What {@link batchNormTraining} needs: the affine parameters, the moving statistics it
 * updates, momentum, epsilon, and an optional fused ReLU.
 *
 * @example
 * ```ts
 * const args: BatchNormTrainingArgs = {
 *   gamma, beta, movingMean, movingVariance,
 *   momentum: 0.99, epsilon: 1e-3,
 *   relu: { maxValue: 6 }, // ReLU6 after the normalisation
 * };
 * ```
 */
export interface BatchNormTrainingArgs {
  gamma: tf.Tensor;
  beta: tf.Tensor;
  /** Updated in place with the batch statistics; never part of the gradient. */
  movingMean: tf.Variable;
  movingVariance: tf.Variable;
  /** Weight of the old moving value: moving = moving * momentum + batch * (1 - momentum). */
  momentum: number;
  epsilon: number;
  /**
   * An activation applied to the normalised output, fused into the kernel on wasm:
   * `{ maxValue: 6 }` is ReLU6, `{}` a plain ReLU. Default: none.
   */
  relu?: { maxValue?: number };
}

/**
 * Batch normalisation in training mode, optionally followed by a ReLU. On wasm (with graft's
 * native kernels loaded) one fused kernel call forward and one backward
 * (src/kernels/batchNormTrain.ts); elsewhere, e.g. on the cpu backend, the composed version
 * below and a separate ReLU. Both compute the same values and gradients.
 *
 * @example
 * ```ts
 * const y = batchNormTraining(x, { gamma, beta, movingMean, movingVariance, momentum: 0.99, epsilon: 1e-3 });
 * ```
 */
export function batchNormTraining(x: tf.Tensor, args: BatchNormTrainingArgs): tf.Tensor {
  if (fusedKernelAvailable()) {
    const { momentum, epsilon, movingMean, movingVariance } = args;
    return runBatchNormTrain(
      { x, gamma: args.gamma, beta: args.beta, movingMean, movingVariance },
      {
        momentum,
        epsilon,
        activation: args.relu ? 'relu' : 'linear',
        maxValue: args.relu?.maxValue ?? Number.POSITIVE_INFINITY,
      },
    );
  }
  const y = composedBatchNormTraining(x, args);
  if (!args.relu) return y;
  const { maxValue } = args.relu;
  return maxValue === undefined ? tf.relu(y) : clippedRelu(y, maxValue);
}

function fusedKernelAvailable(): boolean {
  return (
    tf.getBackend() === 'wasm' &&
    nativeKernelsLoaded() &&
    tf.getKernel(BATCH_NORM_TRAIN, 'wasm') !== undefined
  );
}

/**
 * Batch normalisation in training mode, forward and backward, composed of tfjs ops: the
 * reference for the fused kernel and the path on backends other than wasm.
 *
 * Normalises over every axis but the last (channels) with the batch mean and the biased batch
 * variance, and folds the batch statistics into the moving statistics. The moving variance
 * uses the biased batch variance, as Keras 3's BatchNormalization does.
 *
 * The gradient is the closed form, written with broadcasting ops only: tfjs's own batch-norm
 * gradient tiles its operands, which costs ~0.45 s of a 2 s MobileNetV2 step on wasm. With
 * xhat = (x - mean) * invStd and N values per channel:
 *   dbeta  = sum(dy)
 *   dgamma = sum(dy * xhat)
 *   dx     = gamma * invStd / N * (N * dy - dbeta - xhat * dgamma)
 * Only `x - mean` (one tensor the size of x) and gamma * invStd are kept for the backward pass.
 */
export function composedBatchNormTraining(x: tf.Tensor, args: BatchNormTrainingArgs): tf.Tensor {
  const channels = x.shape[x.rank - 1] ?? 1;
  const n = x.size / channels;
  const sum = (t: tf.Tensor) => channelSums(t, n, channels, 1);
  const mean = (t: tf.Tensor) => channelSums(t, n, channels, 1 / n);
  const { momentum, epsilon, movingMean, movingVariance } = args;

  const normalise = tf.customGrad((input, gammaInput, betaInput, save) => {
    const xIn = input as tf.Tensor;
    const gamma = gammaInput as tf.Tensor;
    const beta = betaInput as tf.Tensor;
    // Everything here runs inside one custom op: tfjs records none of it on the gradient tape
    // and releases every intermediate except the returned value and the saved tensors.
    const batchMean = mean(xIn);
    const centered = tf.sub(xIn, batchMean);
    const variance = mean(tf.square(centered));
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const scale = tf.mul(gamma, invStd);
    const y = tf.add(tf.mul(centered, scale), beta);
    // assign() keeps the new data alive in the variable; the tensors themselves are released
    // with the op's intermediates. The old data is released by assign.
    movingMean.assign(tf.add(tf.mul(movingMean, momentum), tf.mul(batchMean, 1 - momentum)));
    movingVariance.assign(tf.add(tf.mul(movingVariance, momentum), tf.mul(variance, 1 - momentum)));
    (save as tf.GradSaveFunc)([centered, invStd, scale]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedCentered, savedInvStd, savedScale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dbeta = sum(dy);
        // sum(dy * xhat) = invStd * sum(dy * (x - mean)): one full-size multiply, not two.
        const dgamma = tf.mul(sum(tf.mul(dy, savedCentered)), savedInvStd);
        // dx = scale * (dy - dbeta / N - (x - mean) * invStd * dgamma / N)
        const perCentered = tf.mul(savedInvStd, tf.div(dgamma, n));
        const dx = tf.mul(
          tf.sub(tf.sub(dy, tf.mul(savedCentered, perCentered)), tf.div(dbeta, n)),
          savedScale,
        );
        return [dx, dgamma, dbeta];
      },
    };
  });
  return normalise(x, args.gamma, args.beta);
}

/**
 * Per-channel sum (times `scale`) over every axis but the last, as rows^T x column with
 * rows = t as [n, C]. tfjs-backend-wasm reduces only innermost axes, so tf.sum over [0, 1, 2]
 * of NHWC transposes the whole tensor first. Measured on wasm, one sum on each of seven
 * MobileNetV2-0.35 96px batch-16 activation shapes, fresh tensors: tf.sum 8.6 ms in all, this
 * 5.3 ms, [1, n] x [n, C] 21 ms (XNNPACK repacks that [n, C] operand as weights every call).
 */
function channelSums(t: tf.Tensor, n: number, channels: number, scale: number): tf.Tensor {
  const rows = tf.reshape(t, [n, channels]) as tf.Tensor2D;
  return tf.reshape(tf.matMul(rows, tf.fill([n, 1], scale) as tf.Tensor2D, true, false), [
    channels,
  ]);
}
