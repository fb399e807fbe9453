import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { GraftError } from '../errors';
import { BatchNorm } from './batchNorm';
import { relativeError, seededTensor } from './testHelpers';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

function disposeLayer(layer: BatchNorm): void {
  for (const p of layer.params()) p.variable.dispose();
}

describe('BatchNorm', () => {
  it('has the four Keras weights, in Keras order, with Keras initial values', () => {
    const bn = new BatchNorm({ name: 'block_3_expand_BN', block: 'block_3', channels: 4 });
    expect(
      bn.params().map((p) => [p.name, p.kind, p.trainable, Array.from(p.variable.dataSync())]),
    ).toEqual([
      ['block_3_expand_BN/gamma', 'gamma', true, [1, 1, 1, 1]],
      ['block_3_expand_BN/beta', 'beta', true, [0, 0, 0, 0]],
      ['block_3_expand_BN/moving_mean', 'movingMean', false, [0, 0, 0, 0]],
      ['block_3_expand_BN/moving_variance', 'movingVariance', false, [1, 1, 1, 1]],
    ]);
    expect(bn.params().every((p) => p.block === 'block_3')).toBe(true);
    expect(bn.config).toEqual({ channels: 4, momentum: 0.99, epsilon: 1e-3 });
    disposeLayer(bn);
  });

  it('in inference mode uses the moving statistics and changes nothing', () => {
    const bn = new BatchNorm({ name: 'bn', channels: 3, epsilon: 1e-3 });
    bn.gamma.variable.assign(tf.tensor1d([1, 2, 0.5]));
    bn.beta.variable.assign(tf.tensor1d([0, -1, 3]));
    bn.movingMean.variable.assign(tf.tensor1d([0.5, 0, -2]));
    bn.movingVariance.variable.assign(tf.tensor1d([4, 1, 0.25]));
    const x = seededTensor([2, 3, 3, 3], 1);
    const y = bn.apply(x, { training: false });
    const expected = tf.tidy(() =>
      tf.add(
        tf.mul(
          tf.div(
            tf.sub(x, bn.movingMean.variable),
            tf.sqrt(tf.add(bn.movingVariance.variable, 1e-3)),
          ),
          bn.gamma.variable,
        ),
        bn.beta.variable,
      ),
    );
    expect(relativeError(y.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
    expect(Array.from(bn.movingMean.variable.dataSync())).toEqual([0.5, 0, -2]);
    expect(Array.from(bn.movingVariance.variable.dataSync())).toEqual([4, 1, 0.25]);
    tf.dispose([x, y, expected]);
    disposeLayer(bn);
  });

  it('in training mode normalises each channel to mean beta, std gamma, and moves the statistics', () => {
    const bn = new BatchNorm({ name: 'bn', channels: 2, momentum: 0.75, epsilon: 1e-5 });
    bn.gamma.variable.assign(tf.tensor1d([2, 1]));
    bn.beta.variable.assign(tf.tensor1d([1, 0]));
    // Channel 0 holds 1..8, channel 1 holds 10 * (1..8): mean 4.5 / 45, variance 5.25 / 525.
    const x = tf.tensor4d(
      Array.from({ length: 8 }, (_, i) => [i + 1, 10 * (i + 1)]).flat(),
      [2, 2, 2, 2],
    );
    const y = bn.apply(x, { training: true });
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    expect(Array.from(mean.dataSync()).map((v) => +v.toFixed(4))).toEqual([1, 0]);
    expect(Array.from(variance.dataSync()).map((v) => +v.toFixed(3))).toEqual([4, 1]);
    const mm = Array.from(bn.movingMean.variable.dataSync());
    const mv = Array.from(bn.movingVariance.variable.dataSync());
    expect(mm[0]).toBeCloseTo(0.25 * 4.5, 5);
    expect(mm[1]).toBeCloseTo(0.25 * 45, 4);
    expect(mv[0]).toBeCloseTo(0.75 + 0.25 * 5.25, 5);
    expect(mv[1]).toBeCloseTo(0.75 + 0.25 * 525, 3);
    tf.dispose([x, y, mean, variance]);
    disposeLayer(bn);
  });

  it('follows a per-layer mode: inference keeps a frozen layer exact while training', () => {
    const frozen = new BatchNorm({ name: 'frozen_bn', channels: 2, momentum: 0.5 });
    const other = new BatchNorm({ name: 'other_bn', channels: 2, momentum: 0.5 });
    const modes = new Map([['frozen_bn', 'inference' as const]]);
    const x = tf.tensor4d(
      Array.from({ length: 16 }, (_, i) => i),
      [2, 2, 2, 2],
    );
    const yFrozen = frozen.apply(x, { training: true, batchNormModes: modes });
    const yInference = frozen.apply(x, { training: false });
    expect(Array.from(yFrozen.dataSync())).toEqual(Array.from(yInference.dataSync()));
    expect(Array.from(frozen.movingMean.variable.dataSync())).toEqual([0, 0]);
    other.apply(x, { training: true, batchNormModes: modes });
    expect(Array.from(other.movingMean.variable.dataSync())).not.toEqual([0, 0]);
    tf.dispose([x, yFrozen, yInference]);
    disposeLayer(frozen);
    disposeLayer(other);
  });

  it('leaks no tensors in either mode, with or without a gradient', () => {
    const bn = new BatchNorm({ name: 'bn', channels: 3 });
    const x = seededTensor([2, 4, 4, 3], 2);
    const before = tf.memory().numTensors;
    for (const training of [true, false]) {
      tf.tidy(() => {
        bn.apply(x, { training });
      });
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(bn.apply(x, { training }))),
        [bn.gamma.variable, bn.beta.variable],
      );
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
    }
    x.dispose();
    disposeLayer(bn);
  });

  it('rejects a wrong channel count and bad settings', () => {
    const bn = new BatchNorm({ name: 'bn', channels: 3 });
    const x = tf.zeros([1, 2, 2, 4]);
    expect(() => bn.apply(x, { training: true })).toThrow(GraftError);
    expect(() => new BatchNorm({ name: 'b', channels: 3, momentum: 1.5 })).toThrow(/momentum/);
    expect(() => new BatchNorm({ name: 'b', channels: 0 })).toThrow(/channels/);
    x.dispose();
    disposeLayer(bn);
  });
});
