import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { Dense } from '../nn/dense';
import { GlobalAveragePooling2D } from '../nn/pooling';
import { maxAbsDiff, seededTensor } from '../nn/testHelpers';
import { kerasMobileNetV2Fixture } from '../testing/fixtures/kerasMobileNetV2';
import { loadBackbone } from './loadBackbone';
import { loadGraftModel } from './loadGraftModel';
import { saveModel } from './saveModel';

let dir: string;
beforeAll(async () => {
  const info = await initBackend({ fallback: false });
  expect(info.name).toBe('wasm');
  dir = await mkdtemp(join(tmpdir(), 'graft-finetune-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fine-tuning a loaded backbone on wasm (acceptance)', () => {
  it('trains every layer, then exports a model tfjs-layers predicts identically and graft reads back', async () => {
    const trunk = await loadBackbone(
      kerasMobileNetV2Fixture({ alpha: 0.35, inputShape: [32, 32, 3], classes: 10 }),
      {
        cutAt: 'out_relu',
      },
    );
    const pool = new GlobalAveragePooling2D({ name: 'shape_pool' });
    const logits = new Dense({ name: 'shape_logits', inputUnits: 1280, units: 3, seed: 1 });
    const x = seededTensor([8, 32, 32, 3], 21);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
    const params = [...trunk.params, ...logits.params()];
    const variables = params.filter((p) => p.trainable).map((p) => p.variable);
    // Every trunk layer trains: convolutions, depthwise kernels, batch-norm gamma and beta.
    expect(new Set(params.filter((p) => p.trainable).map((p) => p.kind))).toEqual(
      new Set(['kernel', 'depthwiseKernel', 'gamma', 'beta', 'bias']),
    );
    const kernelBefore = Array.from(trunk.param('Conv1/kernel').variable.dataSync());
    const meanBefore = Array.from(trunk.param('block_3_expand_BN/moving_mean').variable.dataSync());
    const optimizer = tf.train.adam(2e-3);
    const step = (): number => {
      const cost = optimizer.minimize(
        () => {
          const features = trunk.apply(x, { training: true });
          const y = logits.apply(pool.apply(features, { training: true }), { training: true });
          return tf.losses.softmaxCrossEntropy(labels, y) as tf.Scalar;
        },
        true,
        variables,
      ) as tf.Scalar;
      const value = cost.dataSync()[0] as number;
      cost.dispose();
      return value;
    };
    const losses = [step()];
    const tensorsAfterFirst = tf.memory().numTensors;
    for (let i = 0; i < 7; i++) losses.push(step());
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1) as number).toBeLessThan((losses[0] as number) * 0.7);
    expect(Array.from(trunk.param('Conv1/kernel').variable.dataSync())).not.toEqual(kernelBefore);
    expect(
      Array.from(trunk.param('block_3_expand_BN/moving_mean').variable.dataSync()),
    ).not.toEqual(meanBefore);

    const heads = [
      { task: 'shape', kind: 'classification', labels: ['a', 'b', 'c'], layers: [pool, logits] },
    ];
    const saved = await saveModel(join(dir, 'tuned'), {
      backbone: trunk,
      heads,
      metrics: { train: { loss: losses.at(-1) as number } },
    });
    const ours = tf.tidy(() =>
      logits.apply(pool.apply(trunk.apply(x, { training: false }), { training: false }), {
        training: false,
      }),
    );

    // tfjs-layers, reading the files graft wrote.
    const modelJson = JSON.parse(await readFile(saved.modelPath, 'utf8')) as {
      modelTopology: object;
      weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    };
    const shards = await Promise.all(
      modelJson.weightsManifest.flatMap((g) => g.paths.map((p) => readFile(join(dir, 'tuned', p)))),
    );
    const model = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
        weightData: new Uint8Array(Buffer.concat(shards)).buffer,
      }),
    );
    const theirs = model.predict(x) as tf.Tensor;
    expect(theirs.shape).toEqual([8, 3]);
    expect(maxAbsDiff(ours.dataSync(), theirs.dataSync())).toBeLessThan(1e-4);

    // graft's own loader reads the pair back.
    const back = await loadGraftModel(saved.modelPath);
    const again = back.predict(x).shape as tf.Tensor;
    expect(maxAbsDiff(ours.dataSync(), again.dataSync())).toBeLessThan(1e-6);
    expect(back.sidecar.metrics).toEqual({ train: { loss: losses.at(-1) } });
    expect(back.sidecar.tasks[0]?.labels).toEqual(['a', 'b', 'c']);
    expect(back.trunk.blocks).toEqual(trunk.blocks);

    tf.dispose([x, labels, ours, theirs, again]);
    model.dispose();
    back.dispose();
    optimizer.dispose();
    trunk.dispose();
    for (const p of logits.params()) p.variable.dispose();
  });
});
