import {
  type BlockNetwork,
  initBackend,
  mobileNetV2,
  type TrainablePlan,
  Trainer,
  type TrainerOptions,
} from '@graft/core';
import {
  batches,
  drivingSceneObjects,
  drivingScenes,
  mapExamples,
  randomFlip,
  trafficLightColours,
} from '@graft/datasets';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classification } from '../heads/classification';
import { multiLabel } from '../heads/multiLabel';
import { regression } from '../heads/regression';
import { type MultiTaskModel, multiTaskModel } from './multiTaskModel';
import type { Trunk } from './trunk';

// multiTaskModel splits into trunk features and heads, so core's Trainer can cache the
// features while a plan freezes the whole trunk. Here: the split is exact, and on real
// batches (@graft/datasets) and a real MobileNetV2 the Trainer uses it only when it should.

const heads = () => ({
  presence: multiLabel({ labels: drivingSceneObjects, pooling: 'max', hidden: [16] }),
  lightColour: classification({
    classes: trafficLightColours,
    pooling: 'max',
    hidden: [8],
    dropout: 0.3,
  }),
  carCount: regression({ outputs: 1, attachAt: 'block_3' }),
});

/** A trunk that counts the images it runs on. */
function counted(inner: BlockNetwork): Trunk & { images: number; dispose(): void } {
  const trunk = {
    images: 0,
    inputShape: inner.inputShape,
    outputShape: inner.outputShape,
    blocks: inner.blocks,
    params: inner.params,
    layer: (name: string) => inner.layer(name),
    outputsAt: (
      x: tf.Tensor,
      names: readonly string[],
      options: Parameters<Trunk['outputsAt']>[2],
    ) => {
      trunk.images += x.shape[0] ?? 0;
      return inner.outputsAt(x, names, options);
    },
    dispose: () => inner.dispose(),
  };
  return trunk;
}

/** headsOnly(): every trunk parameter frozen, every trunk batch norm on moving statistics. */
function headsOnlyPlan(model: MultiTaskModel): TrainablePlan {
  const trunk = new Set(model.backbone.params.map((p) => p.name));
  return {
    params: new Map(
      model.params.map((p) => [p.name, { trainable: !trunk.has(p.name), lrScale: 1 }]),
    ),
    batchNorm: new Map(
      model.backbone.params
        .filter((p) => p.kind === 'gamma')
        .map((p) => [p.name.slice(0, p.name.lastIndexOf('/')), 'inference' as const]),
    ),
  };
}

describe('multiTaskModel feature split', () => {
  const owned: { dispose(): void }[] = [];
  const own = <T extends { dispose(): void }>(x: T) => {
    owned.push(x);
    return x;
  };
  const build = () => {
    const trunk = own(
      counted(
        mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 4, batchNormMomentum: 0.9 }),
      ),
    );
    return { trunk, model: own(multiTaskModel({ backbone: trunk, tasks: heads(), seed: 2 })) };
  };

  beforeAll(async () => {
    await initBackend({ backend: 'wasm', fallback: false });
  });
  afterEach(() => {
    for (const x of owned.splice(0).reverse()) x.dispose();
  });

  it('fromFeatures(features(x)) is forward(x), in inference and in training with frozen batch norm', () => {
    const { model } = build();
    const split = model.featureSplit;
    const x = tf.randomUniform([6, 32, 32, 3], -1, 1, 'float32', 7);
    const frozen = headsOnlyPlan(model).batchNorm;
    // One pooled feature per (attach point, pooling): presence and lightColour share one.
    const features = split.features(x);
    expect(Object.keys(features).sort()).toEqual(['block_3:avg', 'conv_head:max']);
    for (const options of [
      { training: false },
      { training: true, step: 5, ...(frozen ? { batchNormModes: frozen } : {}) },
    ]) {
      const direct = model.forward(x, options);
      const viaCache = split.fromFeatures(features, options);
      for (const task of model.tasks) {
        const a = (direct[task] as tf.Tensor).dataSync();
        const b = (viaCache[task] as tf.Tensor).dataSync();
        a.forEach((v, i) => {
          expect(b[i]).toBeCloseTo(v, 5);
        });
      }
      tf.dispose([...Object.values(direct), ...Object.values(viaCache)]);
    }
    tf.dispose([x, ...Object.values(features)]);
  });

  it('says why the trunk would differ in training: a batch norm on batch statistics, a dropout layer', () => {
    const { model } = build();
    const split = model.featureSplit;
    expect(split.trunkVariesInTraining(headsOnlyPlan(model).batchNorm)).toBeUndefined();
    expect(split.trunkVariesInTraining(undefined)).toMatch(
      /batch norm bn_Conv1 runs on batch statistics/,
    );
    const oneTraining = new Map(headsOnlyPlan(model).batchNorm);
    oneTraining.set('block_16_project_BN', 'train');
    expect(split.trunkVariesInTraining(oneTraining)).toMatch(/block_16_project_BN/);
    // A loaded trunk with a Dropout layer in it cannot be cached.
    const inner = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 4 });
    own(inner);
    const withDropout: Trunk = {
      ...counted(inner),
      layer: (name) => (name === 'block_2_add' ? { className: 'Dropout' } : inner.layer(name)),
    };
    const other = own(multiTaskModel({ backbone: withDropout, tasks: heads() }));
    expect(other.featureSplit.trunkVariesInTraining(headsOnlyPlan(other).batchNorm)).toMatch(
      /block_2_add \(Dropout\) behaves differently in training/,
    );
  });

  async function fit(augment: boolean, options: Partial<TrainerOptions> = {}) {
    const { trunk, model } = build();
    const scenes = drivingScenes({ count: 32, seed: 1, size: 32, missing: { presence: 0.2 } });
    const data = augment ? mapExamples(scenes, [randomFlip()], { seed: 3 }) : scenes;
    const notes: string[] = [];
    const trainer = own(
      new Trainer({
        model,
        plan: headsOnlyPlan(model),
        optimizer: { type: 'adamw', learningRate: 5e-3, weightDecay: 1e-4 },
        onWarning: () => {},
        onInfo: (m) => notes.push(m),
        ...options,
      }),
    );
    const perEpoch: number[] = [];
    const tensors: number[] = [];
    const history = await trainer.fit(
      {
        batchCount: 2,
        batches: (epoch) => batches(data, { batchSize: 16, shuffle: true, seed: 5, epoch }),
      },
      {
        epochs: 3,
        callbacks: [
          {
            onEpochEnd: () => {
              perEpoch.push(trunk.images);
              tensors.push(tf.memory().numTensors);
            },
          },
        ],
      },
    );
    const weights = model.params.map((p) => Array.from(p.variable.dataSync()));
    return { history, notes, perEpoch, tensors, weights };
  }

  it('the Trainer trains heads on cached features: the trunk runs once per scene, same weights as without', async () => {
    const cached = await fit(false);
    const whole = await fit(false, { featureCache: 'off' });
    expect(cached.notes.join('\n')).toMatch(/feature cache: on/);
    expect(cached.perEpoch).toEqual([32, 32, 32]);
    expect(whole.perEpoch).toEqual([32, 64, 96]);
    cached.weights.forEach((w, i) => {
      w.forEach((v, k) => {
        expect(Math.abs(v - (whole.weights[i]?.[k] as number))).toBeLessThan(1e-4);
      });
    });
    cached.history.epochs.forEach((e, i) => {
      expect(e.loss).toBeCloseTo(whole.history.epochs[i]?.loss as number, 4);
    });
    expect(cached.tensors[2]).toBe(cached.tensors[1]);
  });

  it('augmented scenes go through the trunk every pass', async () => {
    const run = await fit(true);
    expect(run.notes.join('\n')).toMatch(/the batches are augmented/);
    expect(run.perEpoch).toEqual([32, 64, 96]);
  });
});
