import {
  type Batch,
  Dense,
  initBackend,
  type MobileNetV2,
  mobileNetV2,
  type Param,
  type TrainableModel,
  Trainer,
} from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FreezePlan } from './freezePlan';
import { all, gradual, lastBlocks } from './index';

// The Trainer (core) obeys a FreezePlan (freeze) through core's structural TrainablePlan:
// these tests train a small MobileNetV2 + head under plans and inspect the weights.

let trunk: MobileNetV2;
let head: Dense;

function modelOf(): TrainableModel & { blocks: MobileNetV2['blocks'] } {
  const headParams = head.params();
  return {
    tasks: ['car'],
    params: [...trunk.params, ...headParams],
    taskParams: { car: headParams },
    blocks: trunk.blocks,
    forward: (x, options) =>
      tf.tidy(() => {
        const f = trunk.apply(x, {
          training: options.training,
          ...(options.batchNormModes ? { batchNormModes: options.batchNormModes } : {}),
        });
        return { car: head.apply(tf.mean(f, [1, 2]), { training: options.training }) };
      }),
    loss: (outputs, batch) => ({
      car: tf.losses.sigmoidCrossEntropy(
        batch.targets.car as tf.Tensor,
        outputs.car as tf.Tensor,
      ) as tf.Scalar,
    }),
  };
}

function batches(count: number): Batch[] {
  return Array.from({ length: count }, (_, i) => ({
    x: tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 10 + i),
    // Unbalanced on purpose: with balanced targets a head on constant features gets no gradient.
    targets: { car: tf.tensor2d([[1], [1], [1], [0]]) },
    mask: { car: tf.ones([4, 1]) },
  }));
}

const snapshot = (params: readonly Param[]) =>
  new Map(params.map((p) => [p.name, Float32Array.from(p.variable.dataSync())]));

beforeAll(async () => {
  await initBackend();
});
afterAll(() => trunk?.dispose());

function fresh() {
  trunk?.dispose();
  trunk = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 1 });
  head = new Dense({ name: 'car', block: 'head:car', inputUnits: 1280, units: 1, seed: 2 });
  return modelOf();
}

describe('the Trainer honours a FreezePlan', () => {
  it('frozen parameters stay bit-identical and frozen BN statistics do not move', async () => {
    const model = fresh();
    const plan = lastBlocks(1).plan(model);
    const before = snapshot(model.params);
    const data = batches(2);
    await new Trainer({ model, plan, optimizer: { type: 'adam', learningRate: 1e-2 } }).fit(data, {
      epochs: 2,
    });
    let frozenChecked = 0;
    let movedTrainable = 0;
    for (const p of model.params) {
      const same = before.get(p.name)!.every((v, i) => v === p.variable.dataSync()[i]);
      const frozenBlock = p.block !== 'conv_head' && p.block !== 'head:car';
      if (frozenBlock) {
        expect(same, `${p.name} must not change`).toBe(true);
        frozenChecked++;
      } else if (!same) movedTrainable++;
    }
    expect(frozenChecked).toBeGreaterThan(200);
    expect(movedTrainable).toBeGreaterThanOrEqual(4); // Conv_1 kernel, its BN gamma/beta, the head
    // The open block's BN runs on batch statistics, so its moving mean moved.
    expect(plan.batchNorm.get('Conv_1_bn')).toBe('train');
    expect(
      before
        .get('Conv_1_bn/moving_mean')!
        .every((v, i) => v === trunk.param('Conv_1_bn/moving_mean').variable.dataSync()[i]),
    ).toBe(false);
    tf.dispose(data.flatMap((b) => [b.x, b.targets.car as tf.Tensor, b.mask.car as tf.Tensor]));
  });

  it('lrScale reaches the optimizer: an SGD update scales with it', async () => {
    const sizes: number[] = [];
    for (const scale of [1, 0.25]) {
      const model = fresh();
      const base = all().plan(model);
      const plan: FreezePlan = {
        ...base,
        params: new Map(
          [...base.params].map(([n, d]) => [n, n === 'car/kernel' ? { ...d, lrScale: scale } : d]),
        ),
        at: () => plan,
      };
      const before = Float32Array.from(head.kernel.variable.dataSync());
      const data = batches(1);
      await new Trainer({ model, plan, optimizer: { type: 'sgd', learningRate: 0.1 } }).fit(data, {
        epochs: 1,
      });
      const after = head.kernel.variable.dataSync();
      sizes.push(Math.hypot(...before.map((v, i) => v - (after[i] as number))));
      tf.dispose(data.flatMap((b) => [b.x, b.targets.car as tf.Tensor, b.mask.car as tf.Tensor]));
    }
    expect(sizes[0]).toBeGreaterThan(0);
    expect((sizes[1] as number) / (sizes[0] as number)).toBeCloseTo(0.25, 3);
  });

  it('gradual() unfreezes on the stated epochs during fit', async () => {
    const model = fresh();
    const plan = gradual({ every: 1 }).plan(model);
    const data = batches(1);
    const changedAfterEpoch: string[][] = [];
    let previous = snapshot(model.params);
    await new Trainer({ model, plan, optimizer: { type: 'sgd', learningRate: 0.05 } }).fit(data, {
      epochs: 3,
      callbacks: [
        {
          onEpochEnd: () => {
            const now = snapshot(model.params);
            const moved = new Set(
              model.params
                .filter((p) => p.kind !== 'movingMean' && p.kind !== 'movingVariance')
                .filter((p) => !now.get(p.name)!.every((v, i) => v === previous.get(p.name)![i]))
                .map((p) => p.block),
            );
            changedAfterEpoch.push([...moved].sort());
            previous = now;
          },
        },
      ],
    });
    expect(changedAfterEpoch).toEqual([
      ['head:car'],
      ['conv_head', 'head:car'],
      ['block_16', 'conv_head', 'head:car'],
    ]);
    tf.dispose(data.flatMap((b) => [b.x, b.targets.car as tf.Tensor, b.mask.car as tf.Tensor]));
  });
});
