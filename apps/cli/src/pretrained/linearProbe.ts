import { rocAuc } from '@graft/heads';
import * as tf from '@tensorflow/tfjs-core';

/**
 * A linear probe: logistic regression (one sigmoid per label) trained on frozen features. It
 * measures how much a trunk's features already say about a task, with no fine-tuning to hide
 * behind — the honest way to compare backbones.
 */
export async function linearProbeAuc(
  trainFeatures: tf.Tensor2D,
  trainLabels: tf.Tensor2D,
  testFeatures: tf.Tensor2D,
  testLabels: Float32Array,
  options: { steps: number; learningRate: number; seed: number },
): Promise<number[]> {
  const [, d] = trainFeatures.shape;
  const labels = trainLabels.shape[1];
  // Standardise with training statistics so both trunks' features get the same treatment.
  const { mean, variance } = tf.moments(trainFeatures, 0);
  const std = tf.sqrt(tf.add(variance, 1e-6));
  const xs = tf.div(tf.sub(trainFeatures, mean), std);
  const xt = tf.div(tf.sub(testFeatures, mean), std);
  const w = tf.variable(tf.randomNormal([d, labels], 0, 0.01, 'float32', options.seed));
  const b = tf.variable(tf.zeros([labels]));
  const optimizer = tf.train.adam(options.learningRate);
  for (let i = 0; i < options.steps; i++) {
    optimizer.minimize(() => {
      const logits = tf.add(tf.matMul(xs, w), b);
      const l2 = tf.mul(1e-3, tf.sum(tf.square(w)));
      return tf.add(tf.losses.sigmoidCrossEntropy(trainLabels, logits), l2) as tf.Scalar;
    });
  }
  const scores = tf.tidy(() => tf.add(tf.matMul(xt, w), b));
  const s = (await scores.data()) as Float32Array;
  tf.dispose([mean, variance, std, xs, xt, w, b, scores]);
  optimizer.dispose();
  const n = testLabels.length / labels;
  return Array.from({ length: labels }, (_, j) => {
    const column = (values: ArrayLike<number>) =>
      Float32Array.from({ length: n }, (_, i) => values[i * labels + j] as number);
    return rocAuc(column(s), column(testLabels));
  });
}
