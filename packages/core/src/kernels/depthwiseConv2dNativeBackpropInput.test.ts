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

const KERNEL = tf.DepthwiseConv2dNativeBackpropInput;

function backpropInput(
  dy: tf.Tensor,
  filter: tf.Tensor,
  c: DepthwiseCase,
  inputShape: number[] = c.xShape,
): tf.Tensor {
  return tf.engine().runKernel(KERNEL, { dy, filter }, { ...convAttrs(c), inputShape });
}

const UNDER_TEST: DepthwiseBackprop = {
  operands: (c, [a, b]) => [seededTensor(dyShape(c), a), seededTensor(c.filterShape, b)],
  run: ([dy, filter], c) => backpropInput(dy as tf.Tensor, filter as tf.Tensor, c),
};

beforeAll(async () => {
  await initBackend();
});

forEachMemoryMode(() => {
  describe('DepthwiseConv2dNativeBackpropInput on wasm (graft SIMD kernel)', () => {
    it('is registered for wasm', () => {
      expect(tf.getKernel(KERNEL, 'wasm')).toBeDefined();
    });

    it('matches cpu (rel. error < 1e-4) on strides 1/2, all paddings, odd sizes, multiplier 2', async () => {
      const cases = depthwiseGrid(1);
      expect(cases.length).toBeGreaterThan(400);
      expect(await cpuDisagreements(UNDER_TEST, cases, (i) => [2 * i, 2 * i + 1])).toEqual([]);
    });

    it('satisfies <conv(x, w), dy> = <x, dX(dy, w)> with dilation 1 and 2 (cpu ignores dilation)', () => {
      const failures: string[] = [];
      const cases = [...depthwiseGrid(2), ...depthwiseGrid(1).filter((_, i) => i % 7 === 0)];
      for (const [i, c] of cases.entries()) {
        const x = seededTensor(c.xShape, 3 * i);
        const w = seededTensor(c.filterShape, 3 * i + 1);
        const dy = seededTensor(dyShape(c), 3 * i + 2);
        const xv = x.dataSync();
        const wv = w.dataSync();
        const dyv = dy.dataSync();
        const dx = backpropInput(dy, w, c);
        const lhs = dot(referenceDepthwiseConv2d(xv, wv, c), dyv);
        const rhs = dot(xv, dx.dataSync());
        // Scale: the sum of |every product term|, which bounds float32 rounding in any order.
        const scale = dot(
          referenceDepthwiseConv2d(xv.map(Math.abs), wv.map(Math.abs), c),
          dyv.map(Math.abs),
        );
        const rel = Math.abs(lhs - rhs) / Math.max(scale, 1e-30);
        if (!(rel < 1e-5)) failures.push(`${describeCase(c)}: ${lhs} vs ${rhs}`);
        tf.dispose([x, w, dy, dx]);
      }
      expect(failures).toEqual([]);
    });

    it('gives tf.grad of depthwiseConv2d w.r.t. the input that finite differences confirm', () => {
      // f(x) = sum(tanh(depthwiseConv2d(x, w)) * r), central differences along random
      // directions, evaluated in float64 from the float32 convolution.
      const x = seededTensor([2, 9, 7, 5], 21);
      const w = seededTensor([3, 3, 5, 2], 22);
      const r = seededTensor([2, 9, 7, 10], 23);
      const conv = (input: tf.Tensor) =>
        tf.depthwiseConv2d(input as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
      const f = (input: tf.Tensor): number =>
        tf.tidy(() => {
          const y = conv(input).dataSync();
          const rv = r.dataSync();
          let s = 0;
          for (let i = 0; i < y.length; i++) s += Math.tanh(y[i] as number) * (rv[i] as number);
          return s;
        });
      const g = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.tanh(conv(input)), r)))(x);
      expect(tf.getBackend()).toBe('wasm');
      const eps = 1e-2;
      for (let probe = 0; probe < 3; probe++) {
        const v = seededTensor(x.shape, 200 + probe);
        const analytic = dot(g.dataSync(), v.dataSync());
        const plus = tf.tidy(() => f(tf.add(x, tf.mul(v, eps))));
        const minus = tf.tidy(() => f(tf.sub(x, tf.mul(v, eps))));
        const numeric = (plus - minus) / (2 * eps);
        expect(Math.abs(analytic - numeric) / Math.max(1, Math.abs(numeric))).toBeLessThan(2e-3);
        v.dispose();
      }
      tf.dispose([x, w, r, g]);
    });

    it('matches cpu when the batch is split into chunks, with a shorter last chunk', async () => {
      // The kernel works on about 512 KiB of images at a time. Per image, dy, the padded
      // accumulator and dx take more than 3 * 40*40*48*4 B = 921 KB (one image per chunk) and
      // 4 * (16*16 + 18*18 + 16*16) * 64 B = 214 KB (two per chunk: chunks of 2, 2 and 1).
      expect(imagesPerChunk(3 * 40 * 40 * 48 * 4, 3)).toBe(1);
      expect(imagesPerChunk(4 * (16 * 16 + 18 * 18 + 16 * 16) * 64, 5)).toBe(2);
      expect(await cpuDisagreements(UNDER_TEST, CHUNKED_CASES, (i) => [40 + i, 50 + i])).toEqual(
        [],
      );
    });

    it('rejects dy whose channels are not inC * multiplier, naming the kernel and shapes', () => {
      const c: DepthwiseCase = {
        xShape: [1, 5, 5, 3],
        filterShape: [3, 3, 3, 2],
        strides: [1, 1],
        dilations: [1, 1],
        pad: 'same',
      };
      const dy = tf.zeros([1, 5, 5, 5]);
      const filter = tf.zeros(c.filterShape);
      const err = catchError(() => backpropInput(dy, filter, c)) as GraftError;
      expect(err).toBeInstanceOf(GraftError);
      expect(err.code).toBe('KERNEL_BAD_INPUT');
      expect(err.message).toContain(KERNEL);
      expect(err.message).toMatch(/dy's channels \(5\).*3 \* 2.*dy \[1,5,5,5\]/);
      tf.dispose([dy, filter]);
    });

    it('rejects a rank-3 inputShape and a filter whose channels differ from the input', () => {
      const c: DepthwiseCase = {
        xShape: [1, 5, 5, 3],
        filterShape: [3, 3, 3, 1],
        strides: [1, 1],
        dilations: [1, 1],
        pad: 'same',
      };
      const dy = tf.zeros([1, 5, 5, 3]);
      const filter = tf.zeros(c.filterShape);
      const rank = catchError(() => backpropInput(dy, filter, c, [5, 5, 3])) as GraftError;
      expect(rank.code).toBe('KERNEL_BAD_INPUT');
      expect(rank.message).toMatch(/x must be rank 4.*x \[5,5,3\]/);
      const channels = catchError(() => backpropInput(dy, filter, c, [1, 5, 5, 4])) as GraftError;
      expect(channels.code).toBe('KERNEL_BAD_INPUT');
      expect(channels.message).toMatch(
        /filter's input channels \(3\) must equal x's channels \(4\)/,
      );
      tf.dispose([dy, filter]);
    });

    it('leaks no tensors and no wasm data', () => {
      const c: DepthwiseCase = {
        xShape: [2, 9, 9, 17],
        filterShape: [5, 5, 17, 2],
        strides: [2, 2],
        dilations: [1, 1],
        pad: 'valid',
      };
      expectNoLeaks(UNDER_TEST, c);
    });
  });
});
