import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { backboneFromBlocks } from '../backbone/fromBlocks';
import { initBackend } from '../backend/initBackend';
import { BATCH_NORM_TRAIN } from '../kernels/batchNormTrain';
import { agreement } from '../kernels/testing/compareWithCpu';
import { Activation } from './activation';
import { BatchNorm } from './batchNorm';
import { fuseBatchNormRelu } from './batchNormActivation';
import { Block } from './block';
import { Conv2D } from './conv2d';
import type { Layer } from './module';
import { ReLU, ReLU6 } from './relu';
import { seededTensor } from './testHelpers';

beforeAll(async () => {
  await initBackend();
});

/** conv 3->6 + BN + `activation`, then conv 6->5 + BN + ReLU (plain). */
function network(activation: Layer) {
  const block = new Block({
    name: 'b',
    layers: [
      new Conv2D({
        name: 'c1',
        block: 'b',
        inputChannels: 3,
        filters: 6,
        kernelSize: 3,
        padding: 'same',
        seed: 1,
      }),
      new BatchNorm({ name: 'bn1', block: 'b', channels: 6 }),
      activation,
      new Conv2D({
        name: 'c2',
        block: 'b',
        inputChannels: 6,
        filters: 5,
        kernelSize: 1,
        padding: 'same',
        seed: 2,
      }),
      new BatchNorm({ name: 'bn2', block: 'b', channels: 5 }),
      new ReLU({ name: 'r2' }),
    ],
  });
  return { net: backboneFromBlocks({ inputShape: [7, 7, 3], blocks: [block] }), block };
}

/** Output, gradients of sum(out * w) for every trainable param, and moving statistics. */
function outputsAndGrads({ net }: ReturnType<typeof network>, run: (x: tf.Tensor) => tf.Tensor) {
  const x = tf.mul(seededTensor([4, 7, 7, 3], 3), 4);
  const w = seededTensor([4, 7, 7, 5], 4);
  const vars = net.params.filter((p) => p.trainable).map((p) => p.variable);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(run(x), w)) as tf.Scalar, vars);
  const out = {
    loss: value.dataSync()[0] as number,
    grads: vars.map((v) => Float32Array.from((grads[v.name] as tf.Tensor).dataSync())),
    moving: net.params
      .filter((p) => p.kind === 'movingVariance')
      .map((p) => Float32Array.from(p.variable.dataSync())),
  };
  tf.dispose([x, w, value, ...Object.values(grads)]);
  return out;
}

describe('fuseBatchNormRelu / backbone graph fusion', () => {
  it('fuses BatchNorm with ReLU, ReLU6 and Activation relu/relu6, nothing else', () => {
    const bn = new BatchNorm({ name: 'bn', channels: 2 });
    expect(fuseBatchNormRelu(bn, new ReLU6({ name: 'a' }))).toBeDefined();
    expect(fuseBatchNormRelu(bn, new ReLU({ name: 'b' }))).toBeDefined();
    expect(fuseBatchNormRelu(bn, new Activation({ name: 'c', activation: 'relu6' }))).toBeDefined();
    expect(fuseBatchNormRelu(bn, new Activation({ name: 'd', activation: 'relu' }))).toBeDefined();
    expect(
      fuseBatchNormRelu(bn, new Activation({ name: 'e', activation: 'swish' })),
    ).toBeUndefined();
    expect(fuseBatchNormRelu(bn, undefined)).toBeUndefined();
    expect(fuseBatchNormRelu(new ReLU({ name: 'f' }), new ReLU({ name: 'g' }))).toBeUndefined();
  });

  for (const [label, make] of [
    ['ReLU6', () => new ReLU6({ name: 'a1' })],
    ['ReLU(4)', () => new ReLU({ name: 'a1', maxValue: 4 })],
    ['Activation relu', () => new Activation({ name: 'a1', activation: 'relu' })],
  ] as Array<[string, () => Layer]>) {
    it(`gives the same values and gradients fused as layer by layer (${label}), training and not`, () => {
      for (const training of [true, false]) {
        const fusedNet = network(make());
        const plainNet = network(make());
        const fused = outputsAndGrads(fusedNet, (x) => fusedNet.net.apply(x, { training }));
        // Layer by layer: apply every layer itself, as Block did before fusion.
        const plain = outputsAndGrads(plainNet, (x) =>
          plainNet.block.layers.reduce((y, layer) => layer.apply(y, { training }), x),
        );
        expect(Math.abs(fused.loss - plain.loss)).toBeLessThan(
          1e-4 * Math.max(1, Math.abs(plain.loss)),
        );
        for (let i = 0; i < plain.grads.length; i++) {
          const { relError } = agreement(
            fused.grads[i] as Float32Array,
            plain.grads[i] as Float32Array,
          );
          expect(relError, `${label} training=${training} grad ${i}`).toBeLessThan(1e-4);
        }
        for (let i = 0; i < plain.moving.length; i++) {
          expect(
            agreement(fused.moving[i] as Float32Array, plain.moving[i] as Float32Array).relError,
          ).toBeLessThan(1e-5);
        }
        fusedNet.net.dispose();
        plainNet.net.dispose();
      }
    });
  }

  it('runs each BatchNorm + ReLU pair as one kernel, with no ReLU kernels, in training', async () => {
    const { net } = network(new ReLU6({ name: 'a1' }));
    const x = seededTensor([2, 7, 7, 3], 5);
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(net.apply(x, { training: true })) as tf.Scalar,
        net.params.filter((p) => p.trainable).map((p) => p.variable),
      );
      tf.dispose([value, ...Object.values(grads)]);
    });
    // kernelNames lists each name once; kernels has every call.
    expect(profile.kernels.filter((k) => k.name === BATCH_NORM_TRAIN)).toHaveLength(2);
    expect(profile.kernelNames).not.toContain('Relu6');
    expect(profile.kernelNames).not.toContain('Relu');
    expect(profile.kernelNames).not.toContain('Step');
    tf.dispose(x);
    net.dispose();
  });

  it('does not fuse a BatchNorm whose own output outputsAt asks for, and leaks nothing', () => {
    const { net } = network(new ReLU6({ name: 'a1' }));
    const x = seededTensor([2, 7, 7, 3], 6);
    const before = tf.memory().numTensors;
    const out = net.outputsAt(x, ['bn1', 'a1', 'r2'], { training: true });
    expect(tf.memory().numTensors).toBe(before + 3);
    const bn1 = out.bn1?.dataSync() as Float32Array;
    const a1 = out.a1?.dataSync() as Float32Array;
    // The batch norm output itself: negative values and values above 6 survive in it.
    expect(bn1.some((v) => v < 0)).toBe(true);
    expect(a1.every((v) => v >= 0 && v <= 6)).toBe(true);
    expect(
      agreement(
        a1,
        bn1.map((v) => Math.min(Math.max(v, 0), 6)),
      ).maxAbsDiff,
    ).toBe(0);
    tf.dispose(Object.values(out));
    // Fused (bn2 + r2 only, and everything when just the output is asked for): no leftovers.
    tf.dispose(net.outputsAt(x, ['a1'], { training: true }).a1);
    tf.dispose(net.apply(x, { training: true }));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    net.dispose();
  });
});
