import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { ReLU, ReLU6 } from './relu';

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

  it('ReLU6 is Keras ReLU(6.0): clips to [0, 6], gradient 1 inside and 0 outside', () => {
    const layer = new ReLU6({ name: 'Conv1_relu' });
    expect(layer.className).toBe('ReLU');
    expect(layer.config).toEqual({ maxValue: 6 });
    const input = x();
    expect(Array.from(layer.apply(input, { training: true }).dataSync())).toEqual([
      0, 0, 0, 0.5, 5.5, 6, 6, 6,
    ]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t, { training: true })))(input);
    expect(Array.from(g.dataSync())).toEqual([0, 0, 0, 1, 1, 1, 0, 0]);
    tf.dispose([input, g]);
  });

  it('rejects a non-positive maxValue', () => {
    expect(() => new ReLU({ name: 'r', maxValue: 0 })).toThrow(/maxValue must be positive/);
  });
});
