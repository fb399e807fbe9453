import { initBackend, mobileNetV2, pretrainedBackbone } from '@graft/core';
import { drivingScenes } from '@graft/datasets';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { linearProbeAuc } from './linearProbe';

/** Margin (mean ROC-AUC over the four presence labels) the shipped trunk must win by. */
const REQUIRED_MARGIN = 0.05;

async function sceneFeatures(
  trunk: { apply: (x: tf.Tensor, o: { training: boolean }) => tf.Tensor },
  count: number,
  seed: number,
  batchStatistics: boolean,
) {
  const scenes = drivingScenes({ count, seed, size: 64 });
  const pixels = new Float32Array(count * 64 * 64 * 3);
  const labels = new Float32Array(count * 4);
  for (let i = 0; i < count; i++) {
    const { targets } = scenes.renderInto(i, pixels, i * 64 * 64 * 3);
    (targets.presence as number[]).forEach((v, j) => {
      labels[i * 4 + j] = v;
    });
  }
  const features = tf.tidy(() => {
    const x = tf.div(tf.sub(tf.tensor4d(pixels, [count, 64, 64, 3]), 0.5), 0.5);
    return tf.mean(trunk.apply(x, { training: batchStatistics }), [1, 2]) as tf.Tensor2D;
  });
  return { features, labels };
}

describe('the shipped backbone', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it(`beats a random trunk by >= ${REQUIRED_MARGIN} mean AUC in a linear probe on driving scenes it never saw`, async () => {
    const shipped = pretrainedBackbone();
    const random = mobileNetV2({ alpha: 0.35, inputShape: [64, 64, 3], seed: 123 });
    const results: Record<string, number[]> = {};
    for (const [name, trunk] of [
      ['shipped', shipped],
      ['random', random],
    ] as const) {
      // A random trunk's moving statistics are placeholders (mean 0, variance 1) that leave its
      // features nearly constant; it gets batch statistics instead, its best showing.
      const batchStats = name === 'random';
      const train = await sceneFeatures(trunk, 600, 101, batchStats);
      const test = await sceneFeatures(trunk, 400, 202, batchStats);
      const trainLabels = tf.tensor2d(train.labels, [600, 4]);
      results[name] = await linearProbeAuc(
        train.features,
        trainLabels,
        test.features,
        test.labels,
        {
          steps: 300,
          learningRate: 0.01,
          seed: 7,
        },
      );
      tf.dispose([train.features, test.features, trainLabels]);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const margin = mean(results.shipped as number[]) - mean(results.random as number[]);
    console.log(JSON.stringify({ probeAuc: results, margin }));
    expect(margin).toBeGreaterThanOrEqual(REQUIRED_MARGIN);
    shipped.dispose();
    random.dispose();
  });
});
