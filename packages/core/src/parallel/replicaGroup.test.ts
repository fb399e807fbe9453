import { describe, expect, it } from 'vitest';
import { createReplicaGroupMemory, ReplicaGroup } from './replicaGroup';

// Replicas side by side in one thread: the group waits with Atomics.waitAsync.

/** Every replica's contribution reduced at once; `values(r)` and `scale(r)` are replica r's. */
async function reduceAll(
  replicas: number,
  length: number,
  values: (rank: number) => Float32Array,
  options: { scale?: (rank: number) => number; scaledLength?: number } = {},
): Promise<Float32Array[]> {
  const memory = createReplicaGroupMemory({ replicas, capacity: length + 3 });
  const groups = Array.from({ length: replicas }, (_, r) => new ReplicaGroup(memory, r));
  return Promise.all(
    groups.map(async (g) => {
      const sums = await g.allReduceSum(length, (slot) => slot.set(values(g.rank)), 'test', {
        ...(options.scale ? { scale: options.scale(g.rank) } : {}),
        ...(options.scaledLength !== undefined ? { scaledLength: options.scaledLength } : {}),
      });
      return Float32Array.from(sums);
    }),
  );
}

const contribution = (rank: number, length: number) =>
  Float32Array.from({ length }, (_, j) => Math.sin(1 + rank * 7.3 + j * 0.37) * 10 ** (j % 5));

describe('ReplicaGroup.allReduceSum', () => {
  for (const replicas of [1, 2, 3]) {
    it(`sums ${replicas} replicas in float64, rank order, the scaled part weighted`, async () => {
      const length = 101; // odd: shards of unequal length
      const scaledLength = 60;
      const scale = (r: number) => (r + 1) / 7; // not a power of two: products round
      const sums = await reduceAll(replicas, length, (r) => contribution(r, length), {
        scale,
        scaledLength,
      });
      const expected = new Float32Array(length);
      for (let j = 0; j < length; j++) {
        let sum = 0;
        for (let r = 0; r < replicas; r++) {
          sum += (j < scaledLength ? scale(r) : 1) * (contribution(r, length)[j] as number);
        }
        expected[j] = sum;
      }
      // Every replica reads the same bits, and they are the float64 sums rounded once.
      for (const s of sums) expect(Array.from(s)).toEqual(Array.from(expected));
    });
  }

  it('without a scale, is the plain sum; a scaled length past the end is cut to it', async () => {
    const length = 9;
    const plain = await reduceAll(2, length, (r) => contribution(r, length));
    const cut = await reduceAll(2, length, (r) => contribution(r, length), {
      scale: () => 1,
      scaledLength: 1000,
    });
    const expected = Array.from({ length }, (_, j) =>
      Math.fround((contribution(0, length)[j] as number) + (contribution(1, length)[j] as number)),
    );
    expect(Array.from(plain[0] as Float32Array)).toEqual(expected);
    expect(Array.from(cut[1] as Float32Array)).toEqual(expected);
  });

  it('refuses more values than the shared memory holds', async () => {
    const group = new ReplicaGroup(createReplicaGroupMemory({ replicas: 1, capacity: 4 }), 0);
    await expect(group.allReduceSum(5, () => {})).rejects.toThrow(
      /5 values per step, more than the 4/,
    );
  });
});
