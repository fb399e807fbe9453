import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { GraftError } from '../errors';
import { compareWithCpu, seededTensor } from './testing/compareWithCpu';
import { forEachMemoryMode } from './testing/memoryModes';

const KERNEL = tf.UnsortedSegmentSum;

beforeAll(async () => {
  await initBackend();
});

/** Ids in [-2, numSegments + 2): some out of range on both sides, which must be dropped. */
function seededIds(rows: number, numSegments: number, seed: number): tf.Tensor1D {
  return tf.tidy(() =>
    tf.cast(tf.floor(tf.randomUniform([rows], -2, numSegments + 2, 'float32', seed)), 'int32'),
  ) as tf.Tensor1D;
}

forEachMemoryMode(() => {
  describe('UnsortedSegmentSum on wasm (graft SIMD kernel)', () => {
    it('is registered for wasm', () => {
      expect(tf.getKernel(KERNEL, 'wasm')).toBeDefined();
    });

    it('matches cpu on row sizes with and without vector tails, dropping out-of-range ids', async () => {
      const failures: string[] = [];
      const shapes: number[][] = [[1], [7], [5, 1], [9, 3], [12, 4], [6, 17], [33, 2, 5], [4, 64]];
      for (const [i, shape] of shapes.entries()) {
        for (const numSegments of [1, 3, 10]) {
          const x = seededTensor(shape, i);
          const ids = seededIds(shape[0] as number, numSegments, 50 + i);
          const { relError } = await compareWithCpu(() =>
            tf.unsortedSegmentSum(x, ids, numSegments),
          );
          if (!(relError < 1e-6))
            failures.push(`x [${shape}] numSegments ${numSegments}: ${relError}`);
          tf.dispose([x, ids]);
        }
      }
      expect(failures).toEqual([]);
    });

    it('sums known rows exactly, int32 x giving float32 as on cpu', async () => {
      const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [5, 2], 'int32');
      const ids = tf.tensor1d([2, 0, 2, -1, 5], 'int32');
      for (const backend of ['wasm', 'cpu']) {
        await tf.setBackend(backend);
        const out = tf.unsortedSegmentSum(x, ids, 3);
        expect(out.dtype).toBe('float32');
        expect(out.shape).toEqual([3, 2]);
        expect(Array.from(await out.data())).toEqual([3, 4, 0, 0, 6, 8]);
        out.dispose();
      }
      await tf.setBackend('wasm');
      tf.dispose([x, ids]);
    });

    it('is the gradient of gather on wasm', async () => {
      const params = seededTensor([6, 5], 1);
      const indices = tf.tensor1d([4, 1, 4, 0, 4], 'int32');
      const g = tf.grad((p: tf.Tensor) => tf.sum(tf.gather(p, indices)))(params);
      expect(tf.getBackend()).toBe('wasm');
      // Row r of the gradient counts how often r was gathered.
      const counts = [1, 1, 0, 0, 3, 0];
      expect(Array.from(await g.data())).toEqual(counts.flatMap((n) => [n, n, n, n, n]));
      tf.dispose([params, indices, g]);
    });

    it('rejects segment ids that do not match the rows of x', () => {
      const x = tf.zeros([4, 3]);
      const ids = tf.tensor1d([0, 1, 2], 'int32');
      let err: unknown;
      try {
        tf.engine().runKernel(KERNEL, { x, segmentIds: ids }, { numSegments: 3 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GraftError);
      expect((err as GraftError).code).toBe('KERNEL_BAD_INPUT');
      expect((err as GraftError).message).toMatch(
        /x \[4,3\] float32, segmentIds \[3\] int32.*\(UnsortedSegmentSum\)/,
      );
      tf.dispose([x, ids]);
    });

    it('leaks no tensors and no wasm data', () => {
      const x = seededTensor([40, 7], 3);
      const ids = seededIds(40, 8, 4);
      tf.unsortedSegmentSum(x, ids, 8).dispose();
      const backend = tf.backend() as BackendWasm;
      const tensors = tf.memory().numTensors;
      const dataIds = backend.numDataIds();
      for (let i = 0; i < 3; i++) tf.unsortedSegmentSum(x, ids, 8).dispose();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(backend.numDataIds()).toBe(dataIds);
      tf.dispose([x, ids]);
    });
  });
});
