import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import type { GraftError } from '../errors';
import { Add } from './add';
import { BatchNorm } from './batchNorm';
import { Block } from './block';
import { blockNetwork } from './blockNetwork';
import { Conv2D } from './conv2d';
import { ReLU, ReLU6 } from './relu';
import { maxAbsDiff, seededTensor } from './testHelpers';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** stem: conv 3->4 stride 2 + BN + ReLU6; res: conv 4->4 + shortcut add. */
function tinyNetwork(seed = 1) {
  const stem = new Block({
    name: 'stem',
    stride: 2,
    layers: [
      new Conv2D({
        name: 'conv',
        block: 'stem',
        inputChannels: 3,
        filters: 4,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        seed,
      }),
      new BatchNorm({ name: 'bn', block: 'stem', channels: 4 }),
      new ReLU6({ name: 'relu' }),
    ],
  });
  const res = new Block({
    name: 'res',
    layers: [
      new Conv2D({
        name: 'res_conv',
        block: 'res',
        inputChannels: 4,
        filters: 4,
        kernelSize: 1,
        seed,
      }),
    ],
    shortcut: new Add({ name: 'res_add' }),
  });
  return blockNetwork({ inputShape: [8, 6, 3], blocks: [stem, res], description: 'tiny' });
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as GraftError).code;
  }
  return undefined;
}

describe('blockNetwork', () => {
  it('describes its blocks: channels, cumulative stride, layer names; and its shapes', () => {
    const net = tinyNetwork();
    expect(net.outputShape).toEqual([4, 3, 4]);
    expect(net.blocks).toEqual([
      { name: 'stem', outputChannels: 4, stride: 2, layerNames: ['conv', 'bn', 'relu'] },
      { name: 'res', outputChannels: 4, stride: 2, layerNames: ['res_conv', 'res_add'] },
    ]);
    expect(net.params.map((p) => `${p.block}:${p.name}`)).toEqual([
      'stem:conv/kernel',
      'stem:conv/bias',
      'stem:bn/gamma',
      'stem:bn/beta',
      'stem:bn/moving_mean',
      'stem:bn/moving_variance',
      'res:res_conv/kernel',
      'res:res_conv/bias',
    ]);
    expect(net.layer('res_add').className).toBe('Add');
    expect(net.param('bn/gamma').kind).toBe('gamma');
    expect(codeOf(() => net.layer('nope'))).toBe('LAYER_NOT_FOUND');
    expect(codeOf(() => net.param('bn/nope'))).toBe('PARAM_NOT_FOUND');
    net.dispose();
  });

  it('applies the blocks in order, with the residual add, and leaks nothing', () => {
    const net = tinyNetwork();
    const x = seededTensor([2, 8, 6, 3], 5);
    const before = tf.memory().numTensors;
    const y = net.apply(x, { training: false });
    expect(tf.memory().numTensors).toBe(before + 1);
    const expected = tf.tidy(() => {
      const conv = net.layer('conv') as Conv2D;
      const bn = net.layer('bn') as BatchNorm;
      const resConv = net.layer('res_conv') as Conv2D;
      const h = tf.relu6(bn.apply(conv.apply(x, { training: false }), { training: false }));
      return tf.add(h, resConv.apply(h, { training: false }));
    });
    expect(maxAbsDiff(y.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
    tf.dispose([x, y, expected]);
    net.dispose();
  });

  it('returns outputs at named layers and blocks, computing no further than needed', () => {
    const net = tinyNetwork();
    const x = seededTensor([1, 8, 6, 3], 6);
    const full = net.apply(x, { training: false });
    const before = tf.memory().numTensors;
    const outs = net.outputsAt(x, ['relu', 'res'], { training: false });
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(outs.relu?.shape).toEqual([1, 4, 3, 4]);
    expect(maxAbsDiff((outs.res as tf.Tensor).dataSync(), full.dataSync())).toBe(0);
    tf.dispose([x, full, ...Object.values(outs)]);
    net.dispose();
  });

  it('names the offending duplicate: PARAM_DUPLICATE for weights, LAYER_DUPLICATE for others', () => {
    const conv = () =>
      new Conv2D({ name: 'conv', inputChannels: 3, filters: 3, kernelSize: 1, seed: 0 });
    const a = conv();
    const b = conv();
    expect(
      codeOf(() =>
        blockNetwork({
          inputShape: [4, 4, 3],
          blocks: [
            new Block({ name: 'one', layers: [a] }),
            new Block({ name: 'two', layers: [b] }),
          ],
        }),
      ),
    ).toBe('PARAM_DUPLICATE');
    expect(
      codeOf(() =>
        blockNetwork({
          inputShape: [4, 4, 3],
          blocks: [
            new Block({ name: 'one', layers: [new ReLU({ name: 'r' }), new ReLU({ name: 'r' })] }),
          ],
        }),
      ),
    ).toBe('LAYER_DUPLICATE');
    for (const p of [...a.params(), ...b.params()]) p.variable.dispose();
  });

  it('rejects inputs of another size with SHAPE_MISMATCH', () => {
    const net = tinyNetwork();
    const x = tf.zeros([1, 6, 8, 3]);
    expect(codeOf(() => net.apply(x, { training: false }))).toBe('SHAPE_MISMATCH');
    x.dispose();
    net.dispose();
  });
});
