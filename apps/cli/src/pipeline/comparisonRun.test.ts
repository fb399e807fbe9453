import { initBackend, initializerLimit, pretrainedBackbone } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../config/loadConfig';
import { comparisonRunner, reinitialise } from './comparisonRun';
import { loadDataset } from './data';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('reinitialise', () => {
  it('gives the same architecture fresh, seeded weights, without leaking tensors', () => {
    const a = pretrainedBackbone(undefined, { inputShape: [32, 32, 3] });
    const b = pretrainedBackbone(undefined, { inputShape: [32, 32, 3] });
    const kernel = a.params.find((p) => p.kind === 'kernel');
    expect(kernel).toBeDefined();
    const before = kernel?.variable.dataSync().slice() as Float32Array;
    const tensors = tf.memory().numTensors;
    reinitialise(a, 7);
    reinitialise(b, 7);
    expect(tf.memory().numTensors).toBe(tensors);
    const after = kernel?.variable.dataSync() as Float32Array;
    expect(after).not.toEqual(before);
    const limit = initializerLimit('glorotUniform', kernel?.variable.shape as number[]);
    expect(Math.max(...after.map(Math.abs))).toBeLessThanOrEqual(limit);
    for (const [i, p] of a.params.entries()) {
      const values = p.variable.dataSync();
      // Same seed, same weights.
      expect(values).toEqual(b.params[i]?.variable.dataSync());
      if (p.kind === 'gamma' || p.kind === 'movingVariance')
        expect(new Set(values)).toEqual(new Set([1]));
      if (p.kind === 'beta' || p.kind === 'bias' || p.kind === 'movingMean') {
        expect(new Set(values)).toEqual(new Set([0]));
      }
    }
    a.dispose();
    b.dispose();
  });
});

describe('comparisonRunner', () => {
  it('trains nested fractions, reuses identical runs, and leaves no tensors behind', async () => {
    const config = validateConfig(
      {
        data: { adapter: 'drivingScenes', count: 60, size: 32 },
        split: { validation: 0.3, test: 0 },
        backbone: { source: 'shipped', inputSize: 32 },
        tasks: {
          presence: {
            kind: 'multiLabel',
            labels: ['pedestrian', 'car', 'stopSign', 'trafficLight'],
          },
          carCount: { kind: 'regression' },
        },
        epochs: 1,
        batchSize: 16,
      },
      'test config',
    );
    const dataset = await loadDataset(config.data, config.tasks, { seed: config.seed });
    const runner = comparisonRunner({ config, dataset, baseDir: process.cwd() });
    const tasks = ['presence', 'carCount'];
    const tensors = tf.memory().numTensors;
    const half = await runner.run({
      trunk: 'pretrained',
      freeze: 'headsOnly',
      tasks,
      fraction: 0.5,
      seed: 1,
    });
    expect(tf.memory().numTensors).toBe(tensors);
    const full = await runner.run({
      trunk: 'pretrained',
      freeze: 'headsOnly',
      tasks,
      fraction: 1,
      seed: 1,
    });
    expect(full.trainExamples).toBe(42);
    expect(half.trainExamples).toBe(21);
    expect(full.reused).toBe(false);
    expect(full.trunkTrainableParams).toBe(0);
    expect(Number.isFinite(full.metrics.presence)).toBe(true);
    // ruleOfThumb on 42 images keeps the trunk fixed: the very plan of headsOnly, so the run is reused.
    const rule = await runner.run({
      trunk: 'pretrained',
      freeze: 'ruleOfThumb',
      tasks,
      fraction: 1,
      seed: 1,
    });
    expect(rule.reused).toBe(true);
    expect(rule.plan).toBe('ruleOfThumb -> headsOnly');
    expect(rule.metrics).toEqual(full.metrics);
    // Scratch trains every weight; a single-task network has only its own head.
    const scratch = await runner.run({
      trunk: 'scratch',
      freeze: 'all',
      tasks,
      fraction: 1,
      seed: 1,
    });
    expect(scratch.trunkTrainableParams).toBeGreaterThan(0);
    expect(scratch.metrics).not.toEqual(full.metrics);
    const alone = await runner.run({
      trunk: 'pretrained',
      freeze: 'headsOnly',
      tasks: ['carCount'],
      fraction: 1,
      seed: 1,
    });
    expect(Object.keys(alone.metrics)).toEqual(['carCount']);
    expect(alone.trainableParams).toBeLessThan(full.trainableParams);
    expect(runner.trained).toBe(4);
    expect(tf.memory().numTensors).toBe(tensors);
  });
});
