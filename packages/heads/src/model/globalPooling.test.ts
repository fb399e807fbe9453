import { initBackend } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../testing/syntheticBatches';
import { globalMaxPool } from './globalPooling';

describe('globalMaxPool', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', fallback: false });
  });

  it("gives tf.max's values and gradients, ties included", () => {
    const random = seededRandom(5);
    // Values on a coarse grid, so many positions tie for the maximum.
    const values = Array.from({ length: 2 * 3 * 4 * 5 }, () => Math.floor(random() * 4));
    const x = tf.tensor4d(values, [2, 3, 4, 5]);
    const weights = tf.tensor1d([1, -2, 3, 0.5, 2]);
    const viaMax = (t: tf.Tensor) => tf.sum(tf.mul(tf.max(t, [1, 2]), weights));
    const viaPool = (t: tf.Tensor) => tf.sum(tf.mul(globalMaxPool(t), weights));
    expect(Array.from(globalMaxPool(x).dataSync())).toEqual(
      Array.from(tf.max(x, [1, 2]).dataSync()),
    );
    expect(Array.from(tf.grad(viaPool)(x).dataSync())).toEqual(
      Array.from(tf.grad(viaMax)(x).dataSync()),
    );
  });
});
