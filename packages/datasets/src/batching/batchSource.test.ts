import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { drivingScenes } from '../synthetic/drivingScenes';
import { randomFlip } from '../transforms/flip';
import { normalize } from '../transforms/normalize';
import { disposeBatch } from './batches';
import { batchSource } from './batchSource';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('batchSource', () => {
  const scenes = drivingScenes({ count: 20, seed: 2, size: 32 });

  async function pass(source: ReturnType<typeof batchSource>, epoch: number) {
    const ids: string[] = [];
    const sums: number[] = [];
    let count = 0;
    for await (const b of source.batches(epoch)) {
      ids.push(...b.ids);
      sums.push(tf.tidy(() => tf.sum(b.x).dataSync()[0] as number));
      count++;
      disposeBatch(b);
    }
    return { ids, sums, count };
  }

  it('reshuffles and redraws augmentation every epoch, the same way for the same seed', async () => {
    const source = batchSource(scenes, {
      batchSize: 8,
      shuffle: true,
      seed: 4,
      transforms: [randomFlip(), normalize({ inputRange: [-1, 1] })],
    });
    expect(source.batchCount).toBe(3);
    const e0 = await pass(source, 0);
    expect(e0.count).toBe(3);
    expect(await pass(source, 0)).toEqual(e0);
    const e1 = await pass(source, 1);
    expect(e1.ids).not.toEqual(e0.ids);
    expect([...e1.ids].sort()).toEqual([...e0.ids].sort());
    expect(batchSource(scenes, { batchSize: 8, dropRemainder: true }).batchCount).toBe(2);
    expect(() => batchSource(scenes, { batchSize: 8, transforms: [randomFlip()] })).toThrow(
      /random transforms need a seed/,
    );
  });
});
