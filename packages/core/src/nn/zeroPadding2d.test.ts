import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { ZeroPadding2D } from './zeroPadding2d';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('ZeroPadding2D', () => {
  it('pads [[top, bottom], [left, right]] with zeros', () => {
    const layer = new ZeroPadding2D({
      name: 'block_1_pad',
      padding: [
        [0, 1],
        [1, 0],
      ],
    });
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const y = layer.apply(x, { training: false });
    expect(y.shape).toEqual([1, 3, 3, 1]);
    expect(Array.from(y.dataSync())).toEqual([0, 1, 2, 0, 3, 4, 0, 0, 0]);
    expect(layer.outputShape([2, 2, 1])).toEqual([3, 3, 1]);
    tf.dispose([x, y]);
  });

  it('rejects negative or malformed padding', () => {
    expect(
      () =>
        new ZeroPadding2D({
          name: 'p',
          padding: [
            [-1, 0],
            [0, 0],
          ],
        }),
    ).toThrow(/non-negative/);
  });
});
