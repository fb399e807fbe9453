import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { seededTensor } from './testing/compareWithCpu';
import { copyBox, mergeTransposeAxes, WasmScratch } from './wasmOps';

const info = (t: tf.Tensor): tf.TensorInfo => ({
  dataId: t.dataId,
  shape: t.shape,
  dtype: t.dtype,
});

beforeAll(async () => {
  await initBackend();
});

describe('mergeTransposeAxes', () => {
  it('merges axes that stay adjacent and drops size-1 axes', () => {
    expect(mergeTransposeAxes([16, 24, 24, 32], [1, 2, 0, 3])).toEqual({
      shape: [16, 576, 32],
      perm: [1, 0, 2],
    });
    expect(mergeTransposeAxes([2, 1, 5, 3], [3, 1, 2, 0])).toEqual({
      shape: [2, 5, 3],
      perm: [2, 1, 0],
    });
    expect(mergeTransposeAxes([4, 5], [0, 1])).toEqual({ shape: [20], perm: [0] });
    expect(mergeTransposeAxes([1, 1], [1, 0])).toEqual({ shape: [], perm: [] });
  });
});

/** Source indices of the box, in row-major order: what copyBox must produce. */
function boxIndices(shape: number[], begin: number[], size: number[], step: number[]): number[] {
  const out: number[] = [];
  const visit = (axis: number, offset: number) => {
    if (axis === shape.length) {
      out.push(offset);
      return;
    }
    for (let k = 0; k < size[axis]!; k++) {
      visit(axis + 1, offset * shape[axis]! + begin[axis]! + k * step[axis]!);
    }
  };
  visit(0, 0);
  return out;
}

describe('copyBox', () => {
  it('copies strided boxes of any rank, with and without whole trailing axes', () => {
    const cases: Array<[number[], number[], number[], number[], string]> = [
      [[2, 5, 4, 3], [0, 1, 0, 0], [2, 3, 4, 3], [1, 1, 1, 1], 'contiguous rows'],
      [[2, 5, 4, 3], [1, 0, 1, 0], [1, 3, 2, 3], [1, 2, 2, 1], 'strided, runs of 3'],
      [[2, 5, 4, 3], [0, 1, 1, 1], [2, 2, 2, 2], [1, 3, 1, 1], 'partial channels'],
      [[2, 5, 4, 3], [0, 0, 0, 0], [2, 5, 4, 3], [1, 1, 1, 1], 'everything'],
      [[3, 7, 20], [0, 1, 0], [2, 3, 20], [2, 2, 1], 'strided, runs of 20 (copyWithin)'],
      [[3, 7, 20], [1, 2, 3], [2, 4, 17], [1, 1, 1], 'pad gradient: cut both ends'],
      [[6], [1], [3], [2], 'rank 1'],
      [[], [], [], [], 'scalar'],
      [[2, 3, 2, 2, 2], [1, 0, 1, 0, 1], [1, 2, 1, 2, 1], [1, 2, 1, 1, 1], 'rank 5'],
      [[4, 4], [0, 0], [0, 4], [1, 1], 'empty box'],
    ];
    for (const [shape, begin, size, step, what] of cases) {
      const length = shape.reduce((a, b) => a * b, 1);
      const count = size.reduce((a, b) => a * b, 1);
      // Source and destination share one array, as in the wasm heap: the source at element 7,
      // a gap of 5, the box after it, 3 elements past it.
      const from = 7;
      const to = from + length + 5;
      const heap = new Int32Array(to + count + 3).fill(-1);
      for (let i = 0; i < length; i++) heap[from + i] = i;
      copyBox(heap, from, shape, to, begin, size, step);
      const expected = count === 0 ? [] : boxIndices(shape, begin, size, step);
      expect(Array.from(heap.subarray(to, to + count)), what).toEqual(expected);
      // Nothing outside the box's destination is written, the source is unchanged.
      expect(Array.from(heap.subarray(0, from)), what).toEqual(new Array(from).fill(-1));
      expect(Array.from(heap.subarray(from, from + length)), what).toEqual(
        Array.from({ length }, (_, i) => i),
      );
      expect(Array.from(heap.subarray(from + length, to)), what).toEqual([-1, -1, -1, -1, -1]);
      expect(Array.from(heap.subarray(to + count)), what).toEqual([-1, -1, -1]);
    }
  });
});

describe('WasmScratch', () => {
  it('transposes like tf.transpose, on the blocked path for tall matrices too', () => {
    const backend = tf.backend() as BackendWasm;
    const cases: Array<[number[], number[]]> = [
      [
        [4608, 24],
        [1, 0],
      ], // blocked: 4608 rows = 72 blocks of 64
      [
        [3, 4100, 9],
        [0, 2, 1],
      ], // blocked, batched: 4100 rows = 82 blocks of 50
      [
        [4099, 8],
        [1, 0],
      ], // prime row count: direct
      [
        [2, 3, 4, 5],
        [3, 1, 2, 0],
      ],
      [
        [2, 1, 5, 3],
        [1, 3, 2, 0],
      ],
    ];
    for (const [shape, perm] of cases) {
      const x = seededTensor(shape, 1);
      const expected = tf.transpose(x, perm);
      const s = new WasmScratch(backend);
      try {
        const out = s.transpose(info(x), perm);
        expect(out.shape).toEqual(expected.shape);
        expect(Array.from(s.view(out))).toEqual(Array.from(expected.dataSync()));
      } finally {
        s.dispose();
      }
      tf.dispose([x, expected]);
    }
  });

  it('frees every intermediate on dispose, also after a throw, but not released outputs', () => {
    const backend = tf.backend() as BackendWasm;
    const x = seededTensor([8, 6], 2);
    const before = backend.numDataIds();
    const s = new WasmScratch(backend);
    expect(() => {
      try {
        const t = s.transpose(info(x), [1, 0]);
        s.matMul(info(x), s.copy(t));
        throw new Error('halfway');
      } finally {
        s.dispose();
      }
    }).toThrow('halfway');
    expect(backend.numDataIds()).toBe(before);
    const s2 = new WasmScratch(backend);
    const kept = s2.release(s2.reshape(s2.transpose(info(x), [1, 0]), [48]));
    s2.dispose();
    expect(backend.numDataIds()).toBe(before + 1);
    backend.disposeData(kept.dataId);
    expect(backend.numDataIds()).toBe(before);
    x.dispose();
  });
});
