import '@tensorflow/tfjs-backend-cpu';
import { isGraftError } from '@graft/errors';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { batches, disposeBatch } from '../batching/batches';
import { fromArrays } from '../fromArrays';
import { drivingScenes } from '../synthetic/drivingScenes';
import { tempDir } from '../testing/fixtures';
import { randomFlip } from '../transforms/flip';
import { mapExamples } from '../transforms/transform';
import { cacheFeatures } from './cacheFeatures';
import { diskFeatureStore, memoryFeatureStore } from './featureStore';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A stand-in frozen trunk: a fixed 3x3 conv, ReLU, global average pool; counts its calls. */
function trunk() {
  const kernel = tf.tidy(
    () => tf.reshape(tf.sin(tf.range(0, 3 * 3 * 3 * 8)), [3, 3, 3, 8]) as tf.Tensor4D,
  );
  const calls = { images: 0 };
  const features = (x: tf.Tensor) => {
    calls.images += x.shape[0] as number;
    return tf.mean(tf.relu(tf.conv2d(x as tf.Tensor4D, kernel, 2, 'same')), [1, 2]);
  };
  return { features, calls, kernel };
}

describe('cacheFeatures', () => {
  const scenes = drivingScenes({ count: 40, seed: 3, size: 32 });

  it('gives the trunk features of every example, with ids and targets kept', async () => {
    const t = trunk();
    const cached = await cacheFeatures(scenes, {
      backboneKey: 'toy@1',
      features: t.features,
      batchSize: 16,
    });
    expect(cached.featureShape).toEqual([8]);
    expect(cached.computed).toBe(40);
    expect(cached.tasks).toBe(scenes.tasks);
    for (const i of [0, 17, 39]) {
      const [c, e] = await Promise.all([cached.get(i), scenes.get(i)]);
      expect(c.id).toBe(e.id);
      expect(c.targets).toEqual(e.targets);
      const direct = tf.tidy(() => t.features(tf.tensor4d(e.input.data, [1, 32, 32, 3])));
      const expected = direct.dataSync();
      direct.dispose();
      Array.from(c.input.data).forEach((v, k) => {
        expect(v).toBeCloseTo(expected[k] as number, 5);
      });
    }
    t.kernel.dispose();
  });

  it('runs the trunk once: later epochs read the cache, and no tensor is left behind', async () => {
    const t = trunk();
    const store = memoryFeatureStore();
    const before = tf.memory().numTensors;
    const cached = await cacheFeatures(scenes, {
      backboneKey: 'toy@1',
      features: t.features,
      store,
    });
    expect(t.calls.images).toBe(40);
    for (let epoch = 0; epoch < 3; epoch++) {
      for await (const b of batches(cached, { batchSize: 8, shuffle: true, seed: 1, epoch })) {
        expect(b.x.shape).toEqual([b.size, 8]);
        disposeBatch(b);
      }
    }
    const again = await cacheFeatures(scenes, {
      backboneKey: 'toy@1',
      features: t.features,
      store,
    });
    expect(again.computed).toBe(0);
    expect(t.calls.images).toBe(40);
    const otherTrunk = await cacheFeatures(scenes, {
      backboneKey: 'toy@2',
      features: t.features,
      store,
    });
    expect(otherTrunk.computed).toBe(40);
    expect(tf.memory().numTensors).toBe(before);
    t.kernel.dispose();
  });

  it('keeps features on disk across runs, keyed by backbone', async () => {
    const dir = tempDir();
    const t = trunk();
    const first = await cacheFeatures(scenes, {
      backboneKey: 'mobilenet v2/0.35 @64',
      features: t.features,
      store: diskFeatureStore(dir),
      batchSize: 7,
    });
    const second = await cacheFeatures(scenes, {
      backboneKey: 'mobilenet v2/0.35 @64',
      features: t.features,
      store: diskFeatureStore(dir),
    });
    expect(second.computed).toBe(0);
    expect(t.calls.images).toBe(40);
    for (const i of [0, 8, 39]) {
      const [a, b] = await Promise.all([first.get(i), second.get(i)]);
      expect(Array.from(b.input.data)).toEqual(Array.from(a.input.data));
    }
    t.kernel.dispose();
  });

  it('refuses augmented data, a changed feature shape under one key, and duplicate ids', async () => {
    const t = trunk();
    const augmented = mapExamples(scenes, [randomFlip()], { seed: 1 });
    await expect(
      cacheFeatures(augmented, { backboneKey: 'k', features: t.features }),
    ).rejects.toThrow(/cannot cache features of augmented/);
    const store = memoryFeatureStore();
    await cacheFeatures(scenes, { backboneKey: 'k', features: t.features, store });
    const more = drivingScenes({ count: 41, seed: 3, size: 32 });
    try {
      await cacheFeatures(more, { backboneKey: 'k', features: (x) => tf.mean(x, [1]), store });
      expect.unreachable();
    } catch (e) {
      expect(isGraftError(e, 'FEATURE_CACHE_MISMATCH')).toBe(true);
      expect((e as Error).message).toMatch(
        /features of shape \[32, 3\] for backbone "k", which has \[8\] stored/,
      );
    }
    const twins = fromArrays({
      inputShape: [2, 2, 3],
      inputs: [new Float32Array(12), new Float32Array(12)],
      ids: ['a', 'a'],
      tasks: {},
      targets: {},
    });
    await expect(cacheFeatures(twins, { backboneKey: 'k', features: t.features })).rejects.toThrow(
      /id "a" occurs twice/,
    );
    t.kernel.dispose();
  });
});
