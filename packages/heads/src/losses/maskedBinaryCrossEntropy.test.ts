import { initBackend } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { maskedBinaryCrossEntropy } from './maskedBinaryCrossEntropy';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const bce = (z: number, y: number) =>
  -(y * Math.log(sigmoid(z)) + (1 - y) * Math.log(1 - sigmoid(z)));

describe('maskedBinaryCrossEntropy', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('averages BCE over labelled entries only', async () => {
    const z = [
      [0.5, -1.0],
      [2.0, 0.3],
    ];
    const y = [
      [1, 0],
      [0, 1],
    ];
    const m = [
      [1, 0],
      [1, 1],
    ];
    const loss = maskedBinaryCrossEntropy(tf.tensor2d(z), tf.tensor2d(y), tf.tensor2d(m));
    const expected = (bce(0.5, 1) + bce(2.0, 0) + bce(0.3, 1)) / 3;
    expect((await loss.data())[0]).toBeCloseTo(expected, 6);
  });

  it('gives a missing label zero gradient, whatever its (garbage) target', async () => {
    const z = tf.tensor2d([[0.5, -1.0]]);
    const m = tf.tensor2d([[1, 0]]);
    const g1 = tf.grad((l: tf.Tensor) => maskedBinaryCrossEntropy(l, tf.tensor2d([[1, 0]]), m))(z);
    const g2 = tf.grad((l: tf.Tensor) => maskedBinaryCrossEntropy(l, tf.tensor2d([[1, 1]]), m))(z);
    const a = await g1.data();
    expect(a[1]).toBe(0);
    expect(Array.from(await g2.data())).toEqual(Array.from(a));
    // d/dz BCE = sigmoid(z) - y, over 1 labelled entry.
    expect(a[0]).toBeCloseTo(sigmoid(0.5) - 1, 6);
  });

  it('stays finite for huge logits and is 0 with no labels', async () => {
    const big = maskedBinaryCrossEntropy(
      tf.tensor2d([[1000, -1000]]),
      tf.tensor2d([[0, 1]]),
      tf.tensor2d([[1, 1]]),
    );
    expect((await big.data())[0]).toBeCloseTo(1000, 3);
    const none = maskedBinaryCrossEntropy(tf.ones([2, 2]), tf.ones([2, 2]), tf.zeros([2, 2]));
    expect((await none.data())[0]).toBe(0);
  });
});
