import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D } from './pooling';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

// One image, 3x3, one channel: 1..9 row by row.
const image = () => tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);

describe('pooling', () => {
  it('GlobalAveragePooling2D averages height and width per channel', () => {
    const x = tf.tensor4d([1, 10, 2, 20, 3, 30, 4, 40], [1, 2, 2, 2]);
    const layer = new GlobalAveragePooling2D({ name: 'gap' });
    const y = layer.apply(x, { training: false });
    expect(y.shape).toEqual([1, 2]);
    expect(Array.from(y.dataSync())).toEqual([2.5, 25]);
    expect(layer.outputShape([7, 7, 1280])).toEqual([1280]);
    tf.dispose([x, y]);
  });

  it('MaxPooling2D defaults to Keras: pool 2, strides = pool, valid', () => {
    const layer = new MaxPooling2D({ name: 'pool' });
    expect(layer.config).toEqual({ poolSize: [2, 2], strides: [2, 2], padding: 'valid' });
    const x = image();
    expect(Array.from(layer.apply(x, { training: false }).dataSync())).toEqual([5]);
    const same = new MaxPooling2D({ name: 'pool', padding: 'same' });
    expect(Array.from(same.apply(x, { training: false }).dataSync())).toEqual([5, 6, 8, 9]);
    expect(same.outputShape([3, 3, 1])).toEqual([2, 2, 1]);
    x.dispose();
  });

  it('AveragePooling2D with same padding averages only real pixels', () => {
    const layer = new AveragePooling2D({ name: 'pool', poolSize: 2, strides: 2, padding: 'same' });
    const x = image();
    // Windows: [1,2,4,5], [3,6], [7,8], [9].
    expect(Array.from(layer.apply(x, { training: false }).dataSync())).toEqual([3, 4.5, 7.5, 9]);
    const overlapping = new AveragePooling2D({ name: 'pool', poolSize: 2, strides: 1 });
    expect(Array.from(overlapping.apply(x, { training: false }).dataSync())).toEqual([3, 4, 6, 7]);
    x.dispose();
  });
});
