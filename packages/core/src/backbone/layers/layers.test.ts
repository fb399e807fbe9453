import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../backend/initBackend';
import { GraftError } from '../../errors';
import { maxAbsDiff, seededTensor } from '../../nn/testHelpers';
import { KerasModelWriter, keras, toArtifacts } from '../../testing/fixtures/kerasModelWriter';
import { loadBackbone } from '../loadBackbone';
import { Dropout } from './dropout';
import { GlobalMaxPooling2D } from './globalPooling2d';
import { Concatenate, Multiply } from './merging';
import type { PartialBatchNorm } from './partialBatchNorm';
import { Rescaling } from './rescaling';
import { Reshape } from './reshaping';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const inference = { training: false };

describe('backbone layers', () => {
  it('BatchNormalization with center or scale off has only the weights Keras saves, and matches tfjs-layers', async () => {
    const m = new KerasModelWriter('bn', 1);
    let x = m.inputLayer('in', [3, 3, 4]);
    for (const [name, center, scale] of [
      ['no_scale', true, false],
      ['no_center', false, true],
    ] as const) {
      if (scale) m.uniform(`${name}/gamma`, [4], 0.5, 1.5);
      if (center) m.uniform(`${name}/beta`, [4], -0.5, 0.5);
      m.uniform(`${name}/moving_mean`, [4], -0.5, 0.5);
      m.uniform(`${name}/moving_variance`, [4], 0.5, 1.5);
      x = m.layer('BatchNormalization', name, { ...keras.batchNormalization(), center, scale }, [
        x,
      ]);
    }
    const files = m.write([x]);
    const net = await loadBackbone(files);
    expect(net.params.map((p) => p.name)).toEqual([
      'no_scale/beta',
      'no_scale/moving_mean',
      'no_scale/moving_variance',
      'no_center/gamma',
      'no_center/moving_mean',
      'no_center/moving_variance',
    ]);
    const reference = await tfl.loadLayersModel(tf.io.fromMemory(toArtifacts(files)));
    const input = seededTensor([2, 3, 3, 4], 3);
    const ours = net.apply(input, inference);
    const theirs = reference.predict(input) as tf.Tensor;
    expect(maxAbsDiff(ours.dataSync(), theirs.dataSync())).toBeLessThan(1e-5);
    // Training mode normalises with batch statistics and has gradients for what is learned.
    const bn = net.layer('no_scale') as PartialBatchNorm;
    const grads = tf.variableGrads(
      () => tf.sum(tf.square(net.apply(input, { training: true }))) as tf.Scalar,
    );
    expect(Object.keys(grads.grads).length).toBe(2);
    expect(bn.gamma).toBeUndefined();
    tf.dispose([input, ours, theirs, grads.value, ...Object.values(grads.grads)]);
    reference.dispose();
    net.dispose();
  });

  it('Dropout: identity in inference; in training, seeded masks scaled by 1 / (1 - rate)', () => {
    const x = tf.ones([4, 100]);
    const a = new Dropout({ name: 'd', rate: 0.25, seed: 3 });
    const b = new Dropout({ name: 'd', rate: 0.25, seed: 3 });
    expect(a.apply(x, inference)).toBe(x);
    const ya = a.apply(x, { training: true });
    const yb = b.apply(x, { training: true });
    const values = Array.from(ya.dataSync());
    expect(values).toEqual(Array.from(yb.dataSync()));
    expect(new Set(values)).toEqual(new Set([0, Math.fround(1 / 0.75)]));
    const dropped = values.filter((v) => v === 0).length / values.length;
    expect(dropped).toBeGreaterThan(0.15);
    expect(dropped).toBeLessThan(0.35);
    const next = a.apply(x, { training: true });
    expect(Array.from(next.dataSync())).not.toEqual(values);
    expect(() => new Dropout({ name: 'bad', rate: 1 })).toThrow(GraftError);
    tf.dispose([x, ya, yb, next]);
  });

  it('Concatenate, Multiply, Rescaling, Reshape and GlobalMaxPooling2D shapes and values', () => {
    const a = tf.ones([2, 2, 2, 3]);
    const b = tf.fill([2, 2, 2, 1], 2);
    const concat = new Concatenate({ name: 'c' });
    expect(
      concat.outputShape([
        [2, 2, 3],
        [2, 2, 1],
      ]),
    ).toEqual([2, 2, 4]);
    expect(concat.apply([a, b], inference).shape).toEqual([2, 2, 2, 4]);
    expect(
      new Concatenate({ name: 'h', axis: 0 }).outputShape([
        [2, 2, 3],
        [1, 2, 3],
      ]),
    ).toEqual([3, 2, 3]);
    expect(() =>
      concat.outputShape([
        [2, 2, 3],
        [3, 2, 1],
      ]),
    ).toThrow(/differ off the concatenation axis/);
    const gate = tf.tensor4d([0.5, 2, 4], [1, 1, 1, 3]);
    const multiply = new Multiply({ name: 'm' });
    expect(
      multiply.outputShape([
        [2, 2, 3],
        [1, 1, 3],
      ]),
    ).toEqual([2, 2, 3]);
    expect(Array.from(multiply.apply([a, gate], inference).dataSync().slice(0, 3))).toEqual([
      0.5, 2, 4,
    ]);
    expect(() =>
      multiply.outputShape([
        [2, 2, 3],
        [2, 2, 2],
      ]),
    ).toThrow(GraftError);
    const perChannel = new Rescaling({ name: 'r', scale: [1, 2, 3], offset: -1 });
    expect(Array.from(perChannel.apply(a, inference).dataSync().slice(0, 3))).toEqual([0, 1, 2]);
    const reshape = new Reshape({ name: 's', targetShape: [-1, 3] });
    expect(reshape.outputShape([2, 2, 3])).toEqual([4, 3]);
    expect(() => reshape.outputShape([2, 2, 2])).toThrow(/Cannot reshape/);
    const pooled = new GlobalMaxPooling2D({ name: 'g', keepdims: true });
    const x = tf.tensor4d([1, 5, 3, 2, 0, 9, 4, 1], [1, 2, 2, 2]);
    expect(pooled.outputShape([2, 2, 2])).toEqual([1, 1, 2]);
    expect(Array.from(pooled.apply(x, inference).dataSync())).toEqual([4, 9]);
    tf.dispose([a, b, gate, x]);
  });

  it('silu and hard_swish Activation layers load from Keras configs', async () => {
    const m = new KerasModelWriter('acts', 1);
    let x = m.inputLayer('in', [1, 1, 4]);
    x = m.layer('Activation', 'silu', { activation: 'silu' }, [x]);
    x = m.layer('Activation', 'hswish', { activation: 'hard_swish' }, [x]);
    const net = await loadBackbone(m.write([x]));
    const input = tf.tensor4d([-4, -1, 1, 4], [1, 1, 1, 4]);
    const y = net.apply(input, inference);
    const expected = [-4, -1, 1, 4]
      .map((v) => v / (1 + Math.exp(-v)))
      .map((v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6);
    expect(maxAbsDiff(y.dataSync(), expected)).toBeLessThan(1e-6);
    const gelu = new KerasModelWriter('gelu', 1);
    gelu.layer('Activation', 'g', { activation: 'gelu' }, [gelu.inputLayer('in', [1, 1, 4])]);
    const e = (await loadBackbone(gelu.write(['g'])).catch(
      (error: unknown) => error,
    )) as GraftError;
    expect(e.code).toBe('LAYER_UNSUPPORTED');
    expect(e.where).toContain('layer "g" (Activation)');
    tf.dispose([input, y]);
    net.dispose();
  });
});
