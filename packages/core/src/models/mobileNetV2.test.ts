import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import type { GraftError } from '../errors';
import type { BatchNorm } from '../nn/batchNorm';
import type { Conv2D } from '../nn/conv2d';
import { countParams } from '../nn/paramList';
import { seededTensor } from '../nn/testHelpers';
import type { ZeroPadding2D } from '../nn/zeroPadding2d';
import { mobileNetV2 } from './mobileNetV2';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/**
 * Keras MobileNetV2(include_top=False) parameter count, transliterated from the Keras source
 * (`_make_divisible`, `int(filters * alpha)`, 1280 last channels for alpha <= 1) and written
 * as arithmetic on counts, independently of the builder. Every conv is bias-free; every BN
 * has 4 weights per channel.
 */
function kerasParamCount(alpha: number): { total: number; nonTrainable: number } {
  const divisible = (v: number) => {
    let n = Math.max(8, Math.floor(Math.floor(v + 4) / 8) * 8);
    if (n < 0.9 * v) n += 8;
    return n;
  };
  const first = divisible(32 * alpha);
  let total = 3 * 3 * 3 * first + 4 * first;
  let bnChannels = first;
  let cin = first;
  const stages = [
    [1, 16, 1],
    [6, 24, 2],
    [6, 32, 3],
    [6, 64, 4],
    [6, 96, 3],
    [6, 160, 3],
    [6, 320, 1],
  ];
  let id = 0;
  for (const [t, c, n] of stages as [number, number, number][]) {
    for (let i = 0; i < n; i++, id++) {
      const cout = divisible(Math.floor(c * alpha));
      const expanded = id === 0 ? cin : cin * t;
      if (id > 0) {
        total += cin * expanded + 4 * expanded;
        bnChannels += expanded;
      }
      total += 9 * expanded + 4 * expanded + expanded * cout + 4 * cout;
      bnChannels += expanded + cout;
      cin = cout;
    }
  }
  const last = alpha > 1 ? divisible(1280 * alpha) : 1280;
  total += cin * last + 4 * last;
  bnChannels += last;
  return { total, nonTrainable: 2 * bnChannels };
}

/** The layer names keras.applications.MobileNetV2(include_top=False) reports, minus the InputLayer. */
function kerasLayerNames(): string[] {
  const names = ['Conv1', 'bn_Conv1', 'Conv1_relu'];
  const dw = (p: string) => [`${p}depthwise`, `${p}depthwise_BN`, `${p}depthwise_relu`];
  const project = (p: string) => [`${p}project`, `${p}project_BN`];
  names.push(...dw('expanded_conv_'), ...project('expanded_conv_'));
  const strided = new Set([1, 3, 6, 13]);
  const residual = new Set([2, 4, 5, 7, 8, 9, 11, 12, 14, 15]);
  for (let i = 1; i <= 16; i++) {
    const p = `block_${i}_`;
    names.push(`${p}expand`, `${p}expand_BN`, `${p}expand_relu`);
    if (strided.has(i)) names.push(`${p}pad`);
    names.push(...dw(p), ...project(p));
    if (residual.has(i)) names.push(`${p}add`);
  }
  names.push('Conv_1', 'Conv_1_bn', 'out_relu');
  return names;
}

describe('mobileNetV2', () => {
  it('has the parameter counts Keras reports for include_top=False', () => {
    // The independent derivation reproduces Keras's well-known alpha=1.0 summary:
    // Total params: 2,257,984; Trainable: 2,223,872; Non-trainable: 34,112.
    expect(kerasParamCount(1.0)).toEqual({ total: 2_257_984, nonTrainable: 34_112 });
    for (const alpha of [0.35, 0.5, 0.75, 1.0, 1.3, 1.4]) {
      const net = mobileNetV2({ alpha, inputShape: [32, 32, 3], seed: 0 });
      const expected = kerasParamCount(alpha);
      expect({ alpha, total: countParams(net.params) }).toEqual({ alpha, total: expected.total });
      const nonTrainable = countParams(net.params.filter((p) => !p.trainable));
      expect({ alpha, nonTrainable }).toEqual({ alpha, nonTrainable: expected.nonTrainable });
      net.dispose();
    }
  });

  it('rounds channels as Keras does at alpha 0.35 (not as round(v / 8) * 8)', () => {
    const net = mobileNetV2({ alpha: 0.35, inputShape: [96, 96, 3], seed: 0 });
    // From Keras's model summary for MobileNetV2(alpha=0.35): Conv1 has 16 filters, not 8.
    expect(net.blocks.map((b) => b.outputChannels)).toEqual([
      16, 8, 8, 8, 16, 16, 16, 24, 24, 24, 24, 32, 32, 32, 56, 56, 56, 112, 1280,
    ]);
    expect(countParams(net.params)).toBe(410_208);
    net.dispose();
  });

  it('uses the Keras layer names, in Keras order, and the graft block names', () => {
    const net = mobileNetV2({ alpha: 1.0, inputShape: [32, 32, 3], seed: 0 });
    const layerNames = net.blocks.flatMap((b) => b.layerNames);
    // 153 layers + the InputLayer = the 154 layers Keras lists for the base model.
    expect(layerNames).toHaveLength(153);
    expect(layerNames).toEqual(kerasLayerNames());
    expect(net.blocks.map((b) => b.name)).toEqual([
      'stem',
      ...Array.from({ length: 17 }, (_, i) => `block_${i}`),
      'conv_head',
    ]);
    expect(net.param('block_3_expand_BN/gamma').block).toBe('block_3');
    expect(net.param('expanded_conv_depthwise/depthwise_kernel').block).toBe('block_0');
    expect(net.param('Conv1/kernel').block).toBe('stem');
    expect(net.param('Conv_1_bn/moving_variance').block).toBe('conv_head');
    const bn = net.layer('block_5_project_BN') as BatchNorm;
    expect(bn.config).toEqual({ channels: 32, momentum: 0.999, epsilon: 1e-3 });
    expect((net.layer('Conv1') as Conv2D).config).toMatchObject({
      strides: [2, 2],
      padding: 'same',
      useBias: false,
    });
    net.dispose();
  });

  it('reports strides and shapes, and pads strided blocks as Keras correct_pad does', () => {
    const net = mobileNetV2({ alpha: 0.35, inputShape: [96, 96, 3], seed: 0 });
    expect(net.inputShape).toEqual([96, 96, 3]);
    expect(net.outputShape).toEqual([3, 3, 1280]);
    expect(net.blocks.map((b) => b.stride)).toEqual([
      2, 2, 4, 4, 8, 8, 8, 16, 16, 16, 16, 16, 16, 16, 32, 32, 32, 32, 32,
    ]);
    // Even side entering the block: pad after only.
    expect((net.layer('block_1_pad') as ZeroPadding2D).config.padding).toEqual([
      [0, 1],
      [0, 1],
    ]);
    net.dispose();
    // Odd height (33 -> 17 after the stem): pad both sides; even width (35 -> 18): after only.
    const odd = mobileNetV2({ alpha: 0.35, inputShape: [33, 35, 3], seed: 0 });
    expect((odd.layer('block_1_pad') as ZeroPadding2D).config.padding).toEqual([
      [1, 1],
      [0, 1],
    ]);
    const x = seededTensor([1, 33, 35, 3], 1);
    const y = odd.apply(x, { training: false });
    expect(y.shape).toEqual([1, ...odd.outputShape]);
    expect(odd.outputShape).toEqual([2, 2, 1280]);
    tf.dispose([x, y]);
    odd.dispose();
  });

  it('is seeded: same seed, same weights; another seed, other weights', () => {
    const kernels = (seed: number) => {
      const net = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed });
      const v = ['Conv1/kernel', 'block_7_depthwise/depthwise_kernel', 'Conv_1/kernel'].map((n) =>
        Array.from(net.param(n).variable.dataSync()),
      );
      net.dispose();
      return v;
    };
    const a = kernels(3);
    expect(kernels(3)).toEqual(a);
    expect(kernels(4)[0]).not.toEqual(a[0]);
  });

  it('applies in both modes without leaking; only training mode moves the BN statistics', () => {
    const net = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 1 });
    const x = seededTensor([2, 32, 32, 3], 2);
    const stat = () => Array.from(net.param('block_16_project_BN/moving_mean').variable.dataSync());
    const initial = stat();
    const before = tf.memory().numTensors;
    const y = net.apply(x, { training: false });
    expect(y.shape).toEqual([2, 1, 1, 1280]);
    expect(stat()).toEqual(initial);
    const yTrain = net.apply(x, { training: true });
    expect(stat()).not.toEqual(initial);
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose([x, y, yTrain]);
    net.dispose();
  });

  it('rejects bad options with GraftErrors', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as GraftError).code;
      }
    };
    expect(code(() => mobileNetV2({ alpha: 0, seed: 0 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => mobileNetV2({ inputShape: [16, 16, 3], seed: 0 }))).toBe('INVALID_ARGUMENT');
  });
});
