import '@tensorflow/tfjs-backend-cpu';
import { isGraftError } from '@graft/errors';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dataset, Example } from '../dataset';
import { fromArrays } from '../fromArrays';
import { drivingScenes } from '../synthetic/drivingScenes';
import { randomFlip } from '../transforms/flip';
import { mapExamples } from '../transforms/transform';
import { type Batch, batches, disposeBatch } from './batches';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tasks = {
  objects: { kind: 'multiLabel', labels: ['a', 'b'] },
  colour: { kind: 'classification', classes: ['red', 'green', 'blue'] },
  size: { kind: 'regression', outputs: 2 },
} as const;

function small() {
  return fromArrays({
    inputShape: [1, 1, 2],
    inputs: [0, 1, 2, 3, 4].map((i) => new Float32Array([i, -i])),
    tasks,
    targets: {
      objects: [[1, 0], [null, 1], null, [0, 0], [1, 1]],
      colour: [2, null, 0, 1, null],
      size: [[0.5, 1], [2, null], null, [3, 4], [5, 6]],
    },
  });
}

async function all(source: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of source) out.push(b);
  return out;
}

describe('batches', () => {
  it('stacks inputs and gives per-task targets and masks in the documented shapes and dtypes', async () => {
    const [b1, b2] = await all(batches(small(), { batchSize: 3 }));
    if (!b1 || !b2) throw new Error('expected two batches');
    expect(b1.ids).toEqual(['0', '1', '2']);
    expect(b2.size).toBe(2);
    expect(b1.x.shape).toEqual([3, 1, 1, 2]);
    expect(Array.from(b1.x.dataSync())).toEqual([0, -0, 1, -1, 2, -2]);
    const o = b1.targets.objects as tf.Tensor;
    expect([o.shape, o.dtype]).toEqual([[3, 2], 'float32']);
    expect(Array.from(o.dataSync())).toEqual([1, 0, 0, 1, 0, 0]);
    expect(Array.from((b1.mask.objects as tf.Tensor).dataSync())).toEqual([1, 1, 0, 1, 0, 0]);
    const c = b1.targets.colour as tf.Tensor;
    expect([c.shape, c.dtype]).toEqual([[3], 'int32']);
    expect(Array.from(c.dataSync())).toEqual([2, 0, 0]);
    expect(Array.from((b1.mask.colour as tf.Tensor).dataSync())).toEqual([1, 0, 1]);
    const s = b1.targets.size as tf.Tensor;
    expect([s.shape, s.dtype]).toEqual([[3, 2], 'float32']);
    expect(Array.from(s.dataSync())).toEqual([0.5, 1, 2, 0, 0, 0]);
    expect(Array.from((b1.mask.size as tf.Tensor).dataSync())).toEqual([1, 1, 1, 0, 0, 0]);
    expect((b2.mask.colour as tf.Tensor).shape).toEqual([2]);
    disposeBatch(b1);
    disposeBatch(b2);
  });

  it('says whether its inputs are augmented, so a feature cache knows whether ids name fixed inputs', async () => {
    const plain = await all(batches(small(), { batchSize: 5 }));
    expect(plain[0]?.augmented).toBe(false);
    const flipped = await all(
      batches(mapExamples(small(), [randomFlip()], { seed: 1 }), { batchSize: 5 }),
    );
    expect(flipped[0]?.augmented).toBe(true);
    for (const b of [...plain, ...flipped]) disposeBatch(b);
  });

  it('shuffles by seed and epoch, each example once per epoch, and can drop the remainder', async () => {
    const ds = drivingScenes({ count: 50, seed: 1, size: 32 });
    const order = async (seed: number, epoch: number) => {
      const ids: string[] = [];
      for await (const b of batches(ds, { batchSize: 8, shuffle: true, seed, epoch })) {
        ids.push(...b.ids);
        disposeBatch(b);
      }
      return ids;
    };
    const a = await order(3, 0);
    expect(await order(3, 0)).toEqual(a);
    expect(await order(3, 1)).not.toEqual(a);
    expect(await order(4, 0)).not.toEqual(a);
    expect([...a].sort()).toEqual(Array.from({ length: 50 }, (_, i) => `scene-${i}`).sort());
    const dropped = await all(batches(ds, { batchSize: 8, dropRemainder: true }));
    expect(dropped.map((b) => b.size)).toEqual([8, 8, 8, 8, 8, 8]);
    dropped.forEach(disposeBatch);
  });

  it('streams a dataset that is never resident: a bounded number of examples alive at a time', async () => {
    const n = 3000;
    const batchSize = 16;
    let produced = 0;
    let consumed = 0;
    let maxAlive = 0;
    // A stream-only dataset (no get): examples are made as they are pulled, 1 KB each.
    const stream: Dataset = {
      size: n,
      tasks: { flag: { kind: 'multiLabel', labels: ['on'] } },
      async *[Symbol.asyncIterator](): AsyncGenerator<Example> {
        for (let i = 0; i < n; i++) {
          produced++;
          maxAlive = Math.max(maxAlive, produced - consumed);
          yield {
            id: String(i),
            input: { data: new Float32Array(256).fill(i), shape: [256] },
            targets: { flag: [i % 2] },
          };
        }
      },
    };
    const before = tf.memory().numTensors;
    const seen = new Set<string>();
    let inOrder = true;
    for await (const b of batches(stream, {
      batchSize,
      shuffle: true,
      seed: 1,
      shuffleBuffer: 64,
    })) {
      for (const id of b.ids) {
        if (Number(id) !== seen.size) inOrder = false;
        seen.add(id);
      }
      consumed += b.size;
      disposeBatch(b);
    }
    expect(seen.size).toBe(n);
    expect(inOrder).toBe(false);
    // window + (prefetch 2 + 1 in the making + 1 being consumed) batches
    expect(maxAlive).toBeLessThanOrEqual(64 + 4 * batchSize);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names the example whose input shape differs, and refuses an empty dataset', async () => {
    const ds = fromArrays({
      inputShape: [2],
      inputs: [new Float32Array(2), new Float32Array(2)],
      tasks: {},
      targets: {},
    });
    const odd: Dataset = {
      size: 2,
      tasks: {},
      async *[Symbol.asyncIterator]() {
        yield* ds;
        yield { id: 'odd-one', input: { data: new Float32Array(3), shape: [3] }, targets: {} };
      },
    };
    await expect(all(batches(odd, { batchSize: 4 }))).rejects.toThrow(
      /\[3\] differs from the batch's \[2\] \(example odd-one\)/,
    );
    const empty = fromArrays({ inputShape: [2], inputs: [], tasks: {}, targets: {} });
    try {
      await all(batches(empty, { batchSize: 4 }));
      expect.unreachable();
    } catch (e) {
      expect(isGraftError(e, 'DATASET_EMPTY')).toBe(true);
    }
  });
});
