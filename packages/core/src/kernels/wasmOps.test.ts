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

describe('copyBox', () => {
  it('copies strided boxes of any rank, with and without whole trailing axes', () => {
    const shape = [2, 5, 4, 3];
    const src = Float32Array.from({ length: 120 }, (_, i) => i);
    const at = (n: number, h: number, w: number, c: number) => ((n * 5 + h) * 4 + w) * 3 + c;
    const cases: Array<[number[], number[], number[]]> = [
      [
        [0, 1, 0, 0],
        [2, 3, 4, 3],
        [1, 1, 1, 1],
      ], // contiguous rows
      [
        [1, 0, 1, 0],
        [1, 3, 2, 3],
        [1, 2, 2, 1],
      ], // strided, runs of 3
      [
        [0, 1, 1, 1],
        [2, 2, 2, 2],
        [1, 3, 1, 1],
      ], // partial channels
      [
        [0, 0, 0, 0],
        [2, 5, 4, 3],
        [1, 1, 1, 1],
      ], // everything
    ];
    for (const [begin, size, step] of cases) {
      const dst = new Float32Array(size.reduce((a, b) => a * b, 1));
      copyBox(src, shape, dst, begin, size, step);
      const expected: number[] = [];
      for (let n = 0; n < size[0]!; n++)
        for (let h = 0; h < size[1]!; h++)
          for (let w = 0; w < size[2]!; w++)
            for (let c = 0; c < size[3]!; c++)
              expected.push(
                at(
                  begin[0]! + n * step[0]!,
                  begin[1]! + h * step[1]!,
                  begin[2]! + w * step[2]!,
                  begin[3]! + c * step[3]!,
                ),
              );
      expect(Array.from(dst), JSON.stringify({ begin, size, step })).toEqual(expected);
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
