import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import type { GraftError } from '../errors';
import { ACTIVATION_NAMES, Activation, type ActivationName, applyActivation } from './activation';
import { Conv2D } from './conv2d';
import { Dense } from './dense';
import { maxAbsDiff, values } from './testHelpers';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const inputs = [-7, -3, -1.5, -0.25, 0, 0.25, 1.5, 3, 5.5, 7];
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const relu6 = (v: number) => Math.min(Math.max(v, 0), 6);

/** Reference formulas, written from the Keras definitions. */
const reference: Record<Exclude<ActivationName, 'softmax'>, (v: number) => number> = {
  linear: (v) => v,
  relu: (v) => Math.max(v, 0),
  relu6,
  sigmoid,
  swish: (v) => v * sigmoid(v),
  silu: (v) => v * sigmoid(v),
  hard_swish: (v) => (v * relu6(v + 3)) / 6,
  hard_silu: (v) => (v * relu6(v + 3)) / 6,
  tanh: Math.tanh,
};

describe('activations', () => {
  it('match the Keras formulas elementwise', () => {
    const x = tf.tensor1d(inputs);
    for (const [name, f] of Object.entries(reference)) {
      const y = applyActivation(x, name as ActivationName);
      expect({ name, diff: maxAbsDiff(values(y), inputs.map(f)) }).toEqual({
        name,
        diff: expect.closeTo(0, 5) as unknown as number,
      });
      if (y !== x) y.dispose();
    }
    x.dispose();
  });

  it('softmax normalises over the last axis', () => {
    const x = tf.tensor2d([
      [1, 2, 3],
      [0, 0, 0],
    ]);
    const y = applyActivation(x, 'softmax');
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const s = e[0]! + e[1]! + e[2]!;
    expect(maxAbsDiff(values(y), [...e.map((v) => v / s), 1 / 3, 1 / 3, 1 / 3])).toBeLessThan(1e-6);
    tf.dispose([x, y]);
  });

  it('has a gradient for every name, and the Activation layer applies it without leaking', () => {
    const x = tf.tensor1d(inputs);
    const before = tf.memory().numTensors;
    for (const name of ACTIVATION_NAMES) {
      const layer = new Activation({ name: `act_${name}`, activation: name });
      const g = tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t, { training: true })))(x);
      expect(values(g).every(Number.isFinite)).toBe(true);
      g.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('rejects an unknown name with the names it knows', () => {
    let error: GraftError | undefined;
    try {
      new Activation({ name: 'a', activation: 'gelu' as ActivationName });
    } catch (e) {
      error = e as GraftError;
    }
    expect(error?.code).toBe('INVALID_ARGUMENT');
    expect(error?.message).toContain('hard_swish');
  });

  it('Conv2D and Dense apply their activation after the bias', () => {
    const conv = new Conv2D({
      name: 'c',
      inputChannels: 1,
      filters: 1,
      kernelSize: 1,
      activation: 'relu',
      seed: 0,
    });
    conv.kernel.variable.assign(tf.ones([1, 1, 1, 1]));
    conv.bias?.variable.assign(tf.tensor1d([-1]));
    const x = tf.tensor4d([0, 2], [1, 1, 2, 1]);
    const y = conv.apply(x, { training: false });
    expect(Array.from(y.dataSync())).toEqual([0, 1]);
    expect(conv.config.activation).toBe('relu');
    const dense = new Dense({ name: 'd', inputUnits: 2, units: 2, activation: 'softmax', seed: 0 });
    const p = dense.apply(tf.ones([3, 2]), { training: false });
    expect(Array.from(tf.sum(p, 1).dataSync()).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([
      1, 1, 1,
    ]);
    tf.dispose([x, y, p]);
    tf.dispose([...conv.params(), ...dense.params()].map((q) => q.variable));
  });
});
