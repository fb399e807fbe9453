import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { ReLU, ReLU6 } from './relu';
import { seededTensor } from './testHelpers';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('ReLU and ReLU6', () => {
  const x = () => tf.tensor1d([-3, -0.5, 0, 0.5, 5.5, 6, 7, 100]);

  it('ReLU is max(x, 0); with maxValue it clips above', () => {
    const input = x();
    expect(
      Array.from(new ReLU({ name: 'r' }).apply(input, { training: false }).dataSync()),
    ).toEqual([0, 0, 0, 0.5, 5.5, 6, 7, 100]);
    expect(
      Array.from(new ReLU({ name: 'r', maxValue: 2 }).apply(input, { training: false }).dataSync()),
    ).toEqual([0, 0, 0, 0.5, 2, 2, 2, 2]);
    input.dispose();
  });

  it('ReLU6 is Keras ReLU(6.0): clips to [0, 6]; gradient 1 strictly inside, else 0 (as TF)', () => {
    const layer = new ReLU6({ name: 'Conv1_relu' });
    expect(layer.className).toBe('ReLU');
    expect(layer.config).toEqual({ maxValue: 6 });
    const input = x();
    expect(Array.from(layer.apply(input, { training: true }).dataSync())).toEqual([
      0, 0, 0, 0.5, 5.5, 6, 6, 6,
    ]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t, { training: true })))(input);
    expect(Array.from(g.dataSync())).toEqual([0, 0, 0, 1, 1, 0, 0, 0]);
    tf.dispose([input, g]);
  });

  it('gives the same gradient as tfjs relu6 away from the clip points, on cpu and wasm', async () => {
    const layer = new ReLU6({ name: 'r' });
    const x = tf.tidy(() => tf.mul(seededTensor([4, 5, 5, 8], 3), 8));
    const dy = seededTensor([4, 5, 5, 8], 4);
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const ours = tf.grad((t: tf.Tensor) => layer.apply(t, { training: true }))(x, dy);
      const stock = tf.grad((t: tf.Tensor) => tf.relu6(t))(x, dy);
      expect(Array.from(ours.dataSync())).toEqual(Array.from(stock.dataSync()));
      tf.dispose([ours, stock]);
    }
    await tf.setBackend('cpu');
    tf.dispose([x, dy]);
  });

  it('clips at any maxValue with the matching gradient', () => {
    const layer = new ReLU({ name: 'r', maxValue: 2.5 });
    const input = tf.tensor1d([-1, 0, 1, 2.5, 3]);
    expect(Array.from(layer.apply(input, { training: false }).dataSync())).toEqual([
      0, 0, 1, 2.5, 2.5,
    ]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t, { training: true })))(input);
    expect(Array.from(g.dataSync())).toEqual([0, 0, 1, 0, 0]);
    tf.dispose([input, g]);
  });

  it('rejects a non-positive maxValue', () => {
    expect(() => new ReLU({ name: 'r', maxValue: 0 })).toThrow(/maxValue must be positive/);
  });
});
