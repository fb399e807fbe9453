import * as tf from '@tensorflow/tfjs-core';

/** Test-only helpers shared by the nn and model tests. Not exported from the package. */

/** Largest absolute elementwise difference. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** ||a - b|| / ||b||: error relative to the size of the reference. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    diff += ((a[i] as number) - (b[i] as number)) ** 2;
    ref += (b[i] as number) ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(ref), 1e-30);
}

/** mulberry32: a tiny seeded PRNG, so fixtures are generated, never downloaded. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A tensor of uniform values in [-1, 1) from a seeded PRNG. */
export function seededTensor(shape: number[], seed: number): tf.Tensor {
  const random = seededRandom(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => random() * 2 - 1),
    shape,
  );
}

/** The values of a tensor as a plain array, read synchronously. */
export function values(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

/**
 * sum(act(BN(x)) * w) for channels-last `x` with `channels` channels, batch statistics and
 * the given epsilon, in float64 with plain loops: a reference independent of tfjs for finite
 * differences. `act` defaults to the identity.
 */
export function batchNormLossInFloat64(
  x: Float64Array,
  gamma: Float64Array,
  beta: Float64Array,
  w: ArrayLike<number>,
  options: { channels: number; epsilon: number; act?: (z: number) => number },
): number {
  const { channels: c, epsilon } = options;
  const act = options.act ?? ((z: number) => z);
  const n = x.length / c;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let i = 0; i < x.length; i++) mean[i % c] = (mean[i % c] as number) + (x[i] as number) / n;
  for (let i = 0; i < x.length; i++) {
    variance[i % c] =
      (variance[i % c] as number) + ((x[i] as number) - (mean[i % c] as number)) ** 2 / n;
  }
  let loss = 0;
  for (let i = 0; i < x.length; i++) {
    const ch = i % c;
    const xhat =
      ((x[i] as number) - (mean[ch] as number)) / Math.sqrt((variance[ch] as number) + epsilon);
    loss += act((gamma[ch] as number) * xhat + (beta[ch] as number)) * (w[i] as number);
  }
  return loss;
}
