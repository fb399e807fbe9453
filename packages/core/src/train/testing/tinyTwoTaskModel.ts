import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm } from '../../nn/batchNorm';
import { Dense } from '../../nn/dense';
import type { Param } from '../../nn/param';
import { seededRandom } from '../../nn/testHelpers';
import type { Batch } from '../batch';
import type { BatchMetrics } from '../batchMetrics';
import type { FeatureSplit, ForwardOptions, ModelOutputs, TrainableModel } from '../trainableModel';

/**
 * Test-only: a two-task model built from core layers, so the Trainer is tested without
 * @graft/heads. Trunk Dense(4->8) + BatchNorm + ReLU; task `flag` (2 sigmoid labels, masked
 * BCE) and task `level` (1 value, masked MSE).
 */
export interface TinyModel extends TrainableModel {
  readonly trunk: Dense;
  readonly norm: BatchNorm;
  /** Examples the trunk has run on (whole forward passes and `featureSplit.features`). */
  readonly trunkRuns: { images: number };
  readonly featureSplit: FeatureSplit;
  dispose(): void;
}

export function tinyTwoTaskModel(seed = 1): TinyModel {
  const trunk = new Dense({ name: 'trunk', block: 'trunk', inputUnits: 4, units: 8, seed });
  const norm = new BatchNorm({ name: 'trunk_bn', block: 'trunk', channels: 8 });
  const flag = new Dense({
    name: 'flag',
    block: 'head:flag',
    inputUnits: 8,
    units: 2,
    seed: seed + 1,
  });
  const level = new Dense({
    name: 'level',
    block: 'head:level',
    inputUnits: 8,
    units: 1,
    seed: seed + 2,
  });
  const params: Param[] = [
    ...trunk.params(),
    ...norm.params(),
    ...flag.params(),
    ...level.params(),
  ];
  const trunkRuns = { images: 0 };
  const trunkPass = (x: tf.Tensor, bnTraining: boolean) => {
    trunkRuns.images += x.shape[0] ?? 0;
    return tf.relu(norm.apply(trunk.apply(x, { training: bnTraining }), { training: bnTraining }));
  };
  const heads = (features: Readonly<Record<string, tf.Tensor>>, options: ForwardOptions) => {
    const h = features.h as tf.Tensor;
    return { flag: flag.apply(h, options), level: level.apply(h, options) };
  };
  return {
    tasks: ['flag', 'level'],
    params,
    taskParams: { flag: flag.params(), level: level.params() },
    trunk,
    norm,
    trunkRuns,
    forward(x: tf.Tensor, options: ForwardOptions): ModelOutputs {
      return tf.tidy(() => {
        const bnTraining =
          options.training && options.batchNormModes?.get('trunk_bn') !== 'inference';
        return heads({ h: trunkPass(x, bnTraining) }, options);
      });
    },
    featureSplit: {
      trunkParams: [...trunk.params(), ...norm.params()],
      features: (x) => tf.tidy(() => ({ h: trunkPass(x, false) })),
      fromFeatures: (features, options) => tf.tidy(() => heads(features, options)),
      trunkVariesInTraining: (modes) =>
        modes?.get('trunk_bn') === 'inference' ? undefined : 'trunk_bn runs in train mode',
    },
    loss: (outputs, batch) => ({
      flag: maskedMean(
        tf.tidy(() => {
          const z = outputs.flag as tf.Tensor;
          const y = batch.targets.flag as tf.Tensor;
          return tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
        }),
        batch.mask.flag as tf.Tensor,
      ),
      level: maskedMean(
        tf.squaredDifference(outputs.level as tf.Tensor, batch.targets.level as tf.Tensor),
        batch.mask.level as tf.Tensor,
      ),
    }),
    metrics: () => levelMae(),
    dispose() {
      for (const p of params) p.variable.dispose();
    },
  };
}

function maskedMean(perEntry: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(perEntry, mask)), tf.maximum(tf.sum(mask), 1)));
}

/** Mean absolute error of `level` over labelled examples: a metric the Trainer passes through. */
function levelMae(): BatchMetrics {
  let sum = 0;
  let n = 0;
  return {
    update(outputs, batch) {
      const p = (outputs.level as tf.Tensor).dataSync();
      const y = (batch.targets.level as tf.Tensor).dataSync();
      const m = (batch.mask.level as tf.Tensor).dataSync();
      for (let i = 0; i < p.length; i++) {
        if (m[i]) {
          sum += Math.abs((p[i] as number) - (y[i] as number));
          n++;
        }
      }
    },
    result: () => ({ scalars: { 'level/mae': n > 0 ? sum / n : Number.NaN }, report: { n } }),
  };
}

export interface TinyBatchOptions {
  size: number;
  seed: number;
  /** Share of `flag` labels blanked. Default 0. */
  missingFlag?: number;
  /** Blank every `level` label. */
  noLevel?: boolean;
}

/**
 * A learnable batch: flag_k = [x_k > 0] for k = 0, 1 (two labels at once), level =
 * x_2 - x_3. Missing labels get garbage targets, which the masks must hide.
 */
export function tinyBatch(options: TinyBatchOptions): Batch {
  const { size, seed } = options;
  const random = seededRandom(seed);
  const x: number[] = [];
  const flag: number[] = [];
  const flagMask: number[] = [];
  const level: number[] = [];
  const levelMask: number[] = [];
  for (let i = 0; i < size; i++) {
    const row = [0, 1, 2, 3].map(() => 2 * random() - 1);
    x.push(...row);
    for (let k = 0; k < 2; k++) {
      const missing = random() < (options.missingFlag ?? 0);
      flag.push(missing ? 7 : (row[k] as number) > 0 ? 1 : 0);
      flagMask.push(missing ? 0 : 1);
    }
    level.push(options.noLevel ? 99 : (row[2] as number) - (row[3] as number));
    levelMask.push(options.noLevel ? 0 : 1);
  }
  return {
    x: tf.tensor2d(x, [size, 4]),
    targets: { flag: tf.tensor2d(flag, [size, 2]), level: tf.tensor2d(level, [size, 1]) },
    mask: { flag: tf.tensor2d(flagMask, [size, 2]), level: tf.tensor2d(levelMask, [size, 1]) },
  };
}
