import * as tf from '@tensorflow/tfjs-core';

/**
 * Test helpers for kernels: run one computation on the backend under test and on
 * tfjs-backend-cpu (the reference) and say how far apart the results are.
 *
 * The error measure is the one of graft's acceptance bar for kernels (< 1e-4 in float32):
 *
 *   relError = max_i |actual_i - expected_i| / max(1, max_i |expected_i|)
 *
 * i.e. absolute error for results of magnitude up to 1 and relative to the largest expected
 * value beyond that, so tiny entries of a large result do not dominate.
 */
export interface Agreement {
  /** max |actual - expected| over all elements. */
  maxAbsDiff: number;
  /** maxAbsDiff / max(1, max |expected|). */
  relError: number;
}

/** Compares two equally long arrays with the measure above. Throws on a length mismatch. */
export function agreement(actual: ArrayLike<number>, expected: ArrayLike<number>): Agreement {
  if (actual.length !== expected.length) {
    throw new Error(`length mismatch: actual ${actual.length}, expected ${expected.length}`);
  }
  let maxAbsDiff = 0;
  let scale = 1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    const diff = Math.abs(a - e);
    // A NaN on either side must fail a `relError < tol` check; `diff > max` would skip it.
    if (Number.isNaN(diff)) return { maxAbsDiff: Number.NaN, relError: Number.NaN };
    if (diff > maxAbsDiff) maxAbsDiff = diff;
    scale = Math.max(scale, Math.abs(e));
  }
  return { maxAbsDiff, relError: maxAbsDiff / scale };
}

export interface CompareOptions {
  /** Backend under test. Default `'wasm'`. */
  backend?: string;
  /** Reference backend. Default `'cpu'`. */
  reference?: string;
}

/**
 * Runs `compute` on `backend` and then on `reference`, compares the results (shapes must
 * match) and restores the backend that was active. `compute` must be deterministic: build
 * its inputs outside (tfjs moves tensors between backends when they are read) or from seeds.
 * Everything `compute` allocates is disposed.
 */
export async function compareWithCpu(
  compute: () => tf.Tensor,
  options: CompareOptions = {},
): Promise<Agreement> {
  const previous = tf.getBackend();
  try {
    const actual = await runOn(options.backend ?? 'wasm', compute);
    const expected = await runOn(options.reference ?? 'cpu', compute);
    if (actual.shape.join() !== expected.shape.join()) {
      throw new Error(`shape mismatch: actual [${actual.shape}], expected [${expected.shape}]`);
    }
    return agreement(actual.values, expected.values);
  } finally {
    await tf.setBackend(previous);
  }
}

async function runOn(
  backend: string,
  compute: () => tf.Tensor,
): Promise<{ shape: number[]; values: Float32Array | Int32Array | Uint8Array }> {
  await tf.setBackend(backend);
  const result = tf.tidy(compute);
  try {
    const values = (await result.data()) as Float32Array | Int32Array | Uint8Array;
    return { shape: result.shape, values };
  } finally {
    result.dispose();
  }
}

/** A float32 tensor of values uniform in [-1, 1), the same on every backend for one seed. */
export function seededTensor(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}
