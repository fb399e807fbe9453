import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { DepthwiseConv2D } from './depthwiseConv2d';
import { maxAbsDiff, seededTensor } from './testHelpers';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const cases = [
  { strides: 1, padding: 'same', multiplier: 1, dilation: 1, size: [7, 6] },
  { strides: 2, padding: 'same', multiplier: 1, dilation: 1, size: [8, 8] },
  { strides: 2, padding: 'valid', multiplier: 2, dilation: 1, size: [9, 8] },
  { strides: 1, padding: 'same', multiplier: 1, dilation: 2, size: [9, 9] },
] as const;

describe('DepthwiseConv2D', () => {
  for (const c of cases) {
    it(`matches tf.depthwiseConv2d: s${c.strides} ${c.padding} x${c.multiplier} d${c.dilation}`, () => {
      const layer = new DepthwiseConv2D({
        name: 'dw',
        inputChannels: 3,
        kernelSize: 3,
        strides: c.strides,
        padding: c.padding,
        depthMultiplier: c.multiplier,
        dilation: c.dilation,
        seed: 2,
      });
      const channels = 3 * c.multiplier;
      const bias = tf.linspace(-1, 1, channels);
      layer.bias?.variable.assign(bias);
      const x = seededTensor([2, c.size[0], c.size[1], 3], 3);
      const y = layer.apply(x, { training: false });
      const expected = tf.add(
        tf.depthwiseConv2d(
          x as tf.Tensor4D,
          layer.kernel.variable as tf.Tensor4D,
          c.strides,
          c.padding,
          'NHWC',
          c.dilation,
        ),
        bias,
      );
      expect(y.shape.slice(1)).toEqual(layer.outputShape([c.size[0], c.size[1], 3]));
      expect(maxAbsDiff(y.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
      tf.dispose([x, y, expected, bias]);
      for (const p of layer.params()) p.variable.dispose();
    });
  }

  it('names its kernel depthwise_kernel [kh, kw, in, multiplier] as Keras does', () => {
    const layer = new DepthwiseConv2D({
      name: 'block_1_depthwise',
      inputChannels: 6,
      kernelSize: 3,
      depthMultiplier: 2,
      useBias: false,
      seed: 0,
    });
    expect(layer.params().map((p) => [p.name, p.kind, p.variable.shape])).toEqual([
      ['block_1_depthwise/depthwise_kernel', 'depthwiseKernel', [3, 3, 6, 2]],
    ]);
    for (const p of layer.params()) p.variable.dispose();
  });
});
