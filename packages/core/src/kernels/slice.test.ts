import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { sliceConfig } from './slice';
import { compareWithCpu, seededTensor } from './testing/compareWithCpu';

describe('Slice on wasm (copied inside the heap)', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', fallback: false });
  });

  it('is the kernel registered for Slice on wasm', () => {
    expect(tf.getKernel(tf.Slice, 'wasm')?.kernelFunc).toBe(sliceConfig.kernelFunc);
  });

  it('matches the cpu backend on boxes of every rank, -1 sizes and odd shapes', async () => {
    const cases: Array<[number[], number[], number[]]> = [
      [
        [16, 49, 49, 16],
        [0, 0, 0, 0],
        [16, 48, 48, 16],
      ], // a ZeroPadding2D gradient
      [
        [1, 7, 5, 3],
        [0, 1, 2, 1],
        [1, 5, -1, 2],
      ],
      [
        [3, 9, 11, 4],
        [1, 0, 0, 0],
        [2, -1, -1, -1],
      ], // whole images: one run
      [
        [2, 6, 6, 1],
        [1, 2, 3, 0],
        [1, 3, 2, 1],
      ],
      [[13], [4], [7]],
      [
        [5, 33],
        [1, 7],
        [3, 20],
      ],
      [
        [4, 3, 17],
        [0, 1, 5],
        [4, 2, 12],
      ],
      [
        [2, 3, 4, 5, 6],
        [1, 0, 2, 1, 0],
        [1, 3, 2, 4, 6],
      ],
    ];
    for (const [shape, begin, size] of cases) {
      const x = seededTensor(shape, shape.length);
      const a = await compareWithCpu(() => tf.slice(x, begin, size));
      expect(a.maxAbsDiff, JSON.stringify({ shape, begin, size })).toBe(0);
      x.dispose();
    }
  });

  it('slices int32 and bool bit for bit, and empty boxes', () => {
    const ints = tf.tensor3d(
      Int32Array.from({ length: 2 * 3 * 4 }, (_, i) => (i % 2 ? -1 : 1) * (0x7fc00001 + i)),
      [2, 3, 4],
      'int32',
    );
    const expected = tf.tidy(() =>
      tf.tensor(Array.from(ints.dataSync()), ints.shape, 'int32').arraySync(),
    ) as number[][][];
    const cut = tf.slice(ints, [1, 1, 1], [1, 2, 3]);
    expect(cut.dtype).toBe('int32');
    expect(cut.arraySync()).toEqual([expected[1]!.slice(1, 3).map((row) => row.slice(1, 4))]);
    const flags = tf.tensor2d([true, false, true, false, false, true], [2, 3], 'bool');
    const col = tf.slice(flags, [0, 1], [2, 2]);
    expect(col.dtype).toBe('bool');
    expect(col.arraySync()).toEqual([
      [0, 1],
      [0, 1],
    ]);
    const empty = tf.slice(ints, [0, 0, 0], [2, 0, 4]);
    expect(empty.shape).toEqual([2, 0, 4]);
    tf.dispose([ints, cut, flags, col, empty]);
  });

  it('hands strings to the stock kernel', () => {
    const words = tf.tensor1d(['a', 'b', 'c', 'd']);
    const cut = tf.slice(words, [1], [2]);
    expect(cut.arraySync()).toEqual(['b', 'c']);
    tf.dispose([words, cut]);
  });

  it('gives the pad gradient and frees everything it makes', () => {
    const backend = tf.backend() as BackendWasm;
    const x = seededTensor([4, 9, 9, 8], 3);
    const before = backend.numDataIds();
    const g = tf.grad((t: tf.Tensor) =>
      tf.sum(
        tf.square(
          tf.pad(t, [
            [0, 0],
            [0, 1],
            [0, 1],
            [0, 0],
          ]),
        ),
      ),
    );
    const dx = g(x);
    const twice = tf.mul(x, 2);
    expect(Array.from(dx.dataSync())).toEqual(Array.from(twice.dataSync()));
    twice.dispose();
    dx.dispose();
    expect(backend.numDataIds()).toBe(before);
    x.dispose();
  });
});
