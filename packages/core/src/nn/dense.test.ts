import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { Dense } from './dense';
import { maxAbsDiff, seededTensor } from './testHelpers';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('Dense', () => {
  it('computes x W + b with a Keras-shaped kernel [in, out]', () => {
    const layer = new Dense({
      name: 'predictions',
      block: 'head:label',
      inputUnits: 5,
      units: 3,
      seed: 4,
    });
    expect(layer.params().map((p) => [p.name, p.block, p.variable.shape])).toEqual([
      ['predictions/kernel', 'head:label', [5, 3]],
      ['predictions/bias', 'head:label', [3]],
    ]);
    layer.bias?.variable.assign(tf.tensor1d([1, 2, 3]));
    const x = seededTensor([4, 5], 1);
    const y = layer.apply(x, { training: false });
    const expected = tf.add(
      tf.matMul(x as tf.Tensor2D, layer.kernel.variable as tf.Tensor2D),
      tf.tensor1d([1, 2, 3]),
    );
    expect(maxAbsDiff(y.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
    expect(layer.outputShape([5])).toEqual([3]);
    tf.dispose([x, y, expected]);
    for (const p of layer.params()) p.variable.dispose();
  });

  it('asks for pooled features when given images', () => {
    const layer = new Dense({ name: 'd', inputUnits: 8, units: 1, useBias: false, seed: 0 });
    expect(layer.params()).toHaveLength(1);
    const x = tf.zeros([2, 1, 1, 8]);
    expect(() => layer.apply(x, { training: false })).toThrow(/Pool or flatten/);
    x.dispose();
    for (const p of layer.params()) p.variable.dispose();
  });
});
