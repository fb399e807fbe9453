import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { GraftError } from '../errors';
import { imagesPerChunk } from '../native/depthwiseGeometry';
import {
  convAttrs,
  type DepthwiseCase,
  depthwiseGrid,
  describeCase,
  dot,
  dyShape,
  referenceDepthwiseConv2d,
} from '../native/depthwiseTestCases';
import { catchError } from './testing/catchError';
import { seededTensor } from './testing/compareWithCpu';
import {
  CHUNKED_CASES,
  cpuDisagreements,
  type DepthwiseBackprop,
  expectNoLeaks,
} from './testing/depthwiseBackprop';
import { forEachMemoryMode } from './testing/memoryModes';

const KERNEL = tf.DepthwiseConv2dNativeBackpropFilter;

function backpropFilter(x: tf.Tensor, dy: tf.Tensor, c: DepthwiseCase): tf.Tensor {
  return tf.engine().runKernel(KERNEL, { x, dy }, { ...convAttrs(c), filterShape: c.filterShape });
}

const UNDER_TEST: DepthwiseBackprop = {
  operands: (c, [a, b]) => [seededTensor(c.xShape, a), seededTensor(dyShape(c), b)],
  run: ([x, dy], c) => backpropFilter(x as tf.Tensor, dy as tf.Tensor, c),
};

beforeAll(async () => {
  await initBackend();
});

forEachMemoryMode(() => {
  describe('DepthwiseConv2dNativeBackpropFilter on wasm (graft SIMD kernel)', () => {
    it('is registered for wasm', () => {
      expect(tf.getKernel(KERNEL, 'wasm')).toBeDefined();
    });

    it('matches cpu (rel. error < 1e-4) on strides 1/2, all paddings, odd sizes, multiplier 2', async () => {
      const cases = depthwiseGrid(1);
      expect(cases.length).toBeGreaterThan(400);
      expect(await cpuDisagreements(UNDER_TEST, cases, (i) => [2 * i, 2 * i + 1])).toEqual([]);
    });

    it('satisfies <conv(x, w), dy> = <w, dW(x, dy)> with dilation 1 and 2 (cpu ignores dilation)', async () => {
      const failures: string[] = [];
      const cases = [...depthwiseGrid(2), ...depthwiseGrid(1).filter((_, i) => i % 7 === 0)];
      for (const [i, c] of cases.entries()) {
        const x = seededTensor(c.xShape, 3 * i);
        const w = seededTensor(c.filterShape, 3 * i + 1);
        const dy = seededTensor(dyShape(c), 3 * i + 2);
        const xv = x.dataSync();
        const wv = w.dataSync();
        const dyv = dy.dataSync();
        const dw = backpropFilter(x, dy, c);
        const lhs = dot(referenceDepthwiseConv2d(xv, wv, c), dyv);
        const rhs = dot(wv, dw.dataSync());
        // Scale: the sum of |every product term|, which bounds float32 rounding in any order.
        const scale = dot(
          referenceDepthwiseConv2d(xv.map(Math.abs), wv.map(Math.abs), c),
          dyv.map(Math.abs),
        );
        const rel = Math.abs(lhs - rhs) / Math.max(scale, 1e-30);
        if (!(rel < 1e-5)) failures.push(`${describeCase(c)}: ${lhs} vs ${rhs}`);
        tf.dispose([x, w, dy, dw]);
      }
      expect(failures).toEqual([]);
    });

    it('gives tf.grad of depthwiseConv2d w.r.t. the filter that finite differences confirm', () => {
      // f(w) = sum(tanh(depthwiseConv2d(x, w)) * r): nonlinear, so the check is not just the
      // adjoint identity again. Central differences along random directions v, in float64.
      const x = seededTensor([2, 9, 7, 5], 11);
      const w = seededTensor([3, 3, 5, 2], 12);
      const r = seededTensor([2, 5, 4, 10], 13);
      const conv = (filter: tf.Tensor) =>
        tf.depthwiseConv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 2, 'same');
      const f = (filter: tf.Tensor): number =>
        tf.tidy(() => {
          const y = conv(filter).dataSync();
          const rv = r.dataSync();
          let s = 0;
          for (let i = 0; i < y.length; i++) s += Math.tanh(y[i] as number) * (rv[i] as number);
          return s;
        });
      const g = tf.grad((filter: tf.Tensor) => tf.sum(tf.mul(tf.tanh(conv(filter)), r)))(w);
      expect(tf.getBackend()).toBe('wasm');
      const eps = 1e-2;
      for (let probe = 0; probe < 3; probe++) {
        const v = seededTensor(w.shape, 100 + probe);
        const analytic = dot(g.dataSync(), v.dataSync());
        const plus = tf.tidy(() => f(tf.add(w, tf.mul(v, eps))));
        const minus = tf.tidy(() => f(tf.sub(w, tf.mul(v, eps))));
        const numeric = (plus - minus) / (2 * eps);
        expect(Math.abs(analytic - numeric) / Math.max(1, Math.abs(numeric))).toBeLessThan(2e-3);
        v.dispose();
      }
      tf.dispose([x, w, r, g]);
    });

    it('matches cpu when the batch is split into chunks, with a shorter last chunk', async () => {
      // The kernel copies about 512 KiB of images at a time. Per image, x and dy alone take
      // 2 * 40*40*48*4 B = 614 KB (one image per chunk) and 2 * 16*16*64*4 B = 131 KB (three
      // images per chunk: chunks of 3 and 2).
      expect(imagesPerChunk(2 * 40 * 40 * 48 * 4, 3)).toBe(1);
      expect(await cpuDisagreements(UNDER_TEST, CHUNKED_CASES, (i) => [40 + i, 50 + i])).toEqual(
        [],
      );
    });

    it('rejects dy whose channels are not inC * multiplier, naming the kernel and shapes', () => {
      const x = tf.zeros([1, 5, 5, 3]);
      const dy = tf.zeros([1, 5, 5, 4]);
      const c: DepthwiseCase = {
        xShape: [1, 5, 5, 3],
        filterShape: [3, 3, 3, 2],
        strides: [1, 1],
        dilations: [1, 1],
        pad: 'same',
      };
      const err = catchError(() => backpropFilter(x, dy, c));
      expect(err).toBeInstanceOf(GraftError);
      expect((err as GraftError).code).toBe('KERNEL_BAD_INPUT');
      expect((err as GraftError).message).toContain(KERNEL);
      expect((err as GraftError).message).toMatch(/dy's channels \(4\).*3 \* 2.*dy \[1,5,5,4\]/);
      tf.dispose([x, dy]);
    });

    it('rejects a rank-3 input and a dy of the wrong spatial size', () => {
      const c: DepthwiseCase = {
        xShape: [1, 5, 5, 3],
        filterShape: [3, 3, 3, 1],
        strides: [2, 2],
        dilations: [1, 1],
        pad: 'same',
      };
      const x3 = tf.zeros([5, 5, 3]);
      const dy = tf.zeros([1, 3, 3, 3]);
      const rank = catchError(() => backpropFilter(x3, dy, c)) as GraftError;
      expect(rank.code).toBe('KERNEL_BAD_INPUT');
      expect(rank.message).toMatch(/x must be rank 4.*x \[5,5,3\]/);
      const x = tf.zeros([1, 5, 5, 3]);
      const dyBad = tf.zeros([1, 5, 5, 3]);
      const size = catchError(() => backpropFilter(x, dyBad, c)) as GraftError;
      expect(size.code).toBe('KERNEL_BAD_INPUT');
      expect(size.message).toMatch(/output size 3x3/);
      tf.dispose([x3, dy, x, dyBad]);
    });

    it('leaks no tensors and no wasm data', () => {
      const c: DepthwiseCase = {
        xShape: [2, 9, 9, 17],
        filterShape: [3, 3, 17, 2],
        strides: [2, 2],
        dilations: [1, 1],
        pad: 'same',
      };
      expectNoLeaks(UNDER_TEST, c);
    });
  });
});
