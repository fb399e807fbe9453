import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { GraftError } from '../errors';
import { Conv2D } from './conv2d';
import { maxAbsDiff, seededTensor } from './testHelpers';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const cases = [
  { kernelSize: 3, strides: 1, padding: 'same', dilation: 1, size: [7, 6] },
  { kernelSize: 3, strides: 2, padding: 'same', dilation: 1, size: [8, 7] },
  { kernelSize: 3, strides: 2, padding: 'valid', dilation: 1, size: [9, 8] },
  { kernelSize: 1, strides: 1, padding: 'valid', dilation: 1, size: [5, 5] },
  { kernelSize: 3, strides: 1, padding: 'same', dilation: 2, size: [9, 9] },
  { kernelSize: 3, strides: 1, padding: 'valid', dilation: 2, size: [9, 7] },
] as const;

describe('Conv2D', () => {
  for (const c of cases) {
    it(`matches tf.conv2d plus bias: k${c.kernelSize} s${c.strides} ${c.padding} d${c.dilation}`, () => {
      const layer = new Conv2D({
        name: 'conv',
        inputChannels: 3,
        filters: 4,
        kernelSize: c.kernelSize,
        strides: c.strides,
        padding: c.padding,
        dilation: c.dilation,
        seed: 1,
      });
      // A non-zero bias, so adding it is checked too.
      layer.bias?.variable.assign(tf.tensor1d([0.5, -1, 2, 0]));
      const x = seededTensor([2, c.size[0], c.size[1], 3], 11);
      const y = layer.apply(x, { training: false });
      const expected = tf.add(
        tf.conv2d(
          x as tf.Tensor4D,
          layer.kernel.variable as tf.Tensor4D,
          c.strides,
          c.padding,
          'NHWC',
          c.dilation,
        ),
        tf.tensor1d([0.5, -1, 2, 0]),
      );
      expect(y.shape).toEqual(expected.shape);
      expect(y.shape.slice(1)).toEqual(layer.outputShape([c.size[0], c.size[1], 3]));
      expect(maxAbsDiff(y.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
      tf.dispose([x, y, expected]);
      for (const p of layer.params()) p.variable.dispose();
    });
  }

  it('pads "same" the TensorFlow way: the extra row and column go after, not before', () => {
    const layer = new Conv2D({
      name: 'c',
      inputChannels: 1,
      filters: 1,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      seed: 0,
    });
    layer.kernel.variable.assign(tf.ones([3, 3, 1, 1]));
    const x = tf.ones([1, 4, 4, 1]);
    // Output (0,0) sees rows 0-2 and cols 0-2 (9 ones); the last row and column are padding.
    expect(Array.from(layer.apply(x, { training: false }).dataSync())).toEqual([9, 6, 6, 4]);
    x.dispose();
    layer.kernel.variable.dispose();
  });

  it('has Keras names and shapes: kernel [kh, kw, in, out], bias [out]; no bias when asked', () => {
    const withBias = new Conv2D({
      name: 'c1',
      inputChannels: 3,
      filters: 8,
      kernelSize: [3, 1],
      seed: 0,
    });
    expect(withBias.params().map((p) => [p.name, p.kind, p.variable.shape])).toEqual([
      ['c1/kernel', 'kernel', [3, 1, 3, 8]],
      ['c1/bias', 'bias', [8]],
    ]);
    expect(withBias.params().every((p) => p.block === 'c1')).toBe(true);
    const noBias = new Conv2D({
      name: 'c2',
      block: 'stem',
      inputChannels: 3,
      filters: 8,
      kernelSize: 1,
      useBias: false,
      seed: 0,
    });
    expect(noBias.params().map((p) => [p.name, p.block])).toEqual([['c2/kernel', 'stem']]);
    for (const p of [...withBias.params(), ...noBias.params()]) p.variable.dispose();
  });

  it('is seeded: same seed, same kernel; another seed, another kernel', () => {
    const make = (seed: number) =>
      new Conv2D({ name: 'c', inputChannels: 2, filters: 3, kernelSize: 3, seed });
    const [a, b, c] = [make(5), make(5), make(6)];
    expect(Array.from(a.kernel.variable.dataSync())).toEqual(
      Array.from(b.kernel.variable.dataSync()),
    );
    expect(Array.from(a.kernel.variable.dataSync())).not.toEqual(
      Array.from(c.kernel.variable.dataSync()),
    );
    for (const l of [a, b, c]) for (const p of l.params()) p.variable.dispose();
  });

  it('rejects the wrong channel count and strides with dilation, as GraftErrors', () => {
    const layer = new Conv2D({
      name: 'conv',
      inputChannels: 3,
      filters: 2,
      kernelSize: 3,
      seed: 0,
    });
    const x = tf.zeros([1, 5, 5, 4]);
    expect(() => layer.apply(x, { training: false })).toThrow(GraftError);
    expect(() => layer.apply(x, { training: false })).toThrow(
      /\[batch, height, width, 3\].*Conv2D conv/,
    );
    expect(
      () =>
        new Conv2D({
          name: 'bad',
          inputChannels: 3,
          filters: 2,
          kernelSize: 3,
          strides: 2,
          dilation: 2,
          seed: 0,
        }),
    ).toThrow(/strides > 1 cannot be combined with dilation > 1/);
    expect(
      () => new Conv2D({ name: 'bad', inputChannels: 3, filters: 0, kernelSize: 3, seed: 0 }),
    ).toThrow(/filters must be positive integers/);
    x.dispose();
    for (const p of layer.params()) p.variable.dispose();
  });
});
