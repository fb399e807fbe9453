import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { GraftError } from '../errors';
import { conv2dBackpropInputConfig, planAxis } from './conv2dBackpropInput';
import {
  type Conv2dCase,
  conv2dGrid,
  convAdjointFailures,
  convAttrs,
  convGradientErrors,
  describeCase,
  dyShape,
  POINTWISE_CASES,
} from './conv2dTestCases';
import { catchError } from './testing/catchError';
import { compareWithCpu, seededTensor } from './testing/compareWithCpu';
import { forEachMemoryMode } from './testing/memoryModes';

const KERNEL = tf.Conv2DBackpropInput;

function backpropInput(dy: tf.Tensor, filter: tf.Tensor, c: Conv2dCase): tf.Tensor {
  return tf.engine().runKernel(KERNEL, { dy, filter }, { ...convAttrs(c), inputShape: c.xShape });
}

beforeAll(async () => {
  await initBackend();
});

describe('planAxis (phase decomposition of the transposed convolution)', () => {
  it('gives stride 1 a single phase over exactly the input rows, taps reversed', () => {
    // 'same' 3-tap: pad 1, so dx[h] = dy[h+1] w0 + dy[h] w1 + dy[h-1] w2.
    expect(planAxis(3, 1, 1, 1, 7, 7)).toEqual({
      phases: [{ taps: [2, 1, 0], dilation: 1, padBefore: 1, padAfter: 1 }],
      count: 7,
      cropStart: 0,
    });
  });

  it('splits stride 2 into residues and marks a residue no tap reaches', () => {
    const plan = planAxis(3, 2, 1, 0, 9, 4); // 'valid', 9 -> 4
    expect(plan.phases.map((p) => p?.taps)).toEqual([[2, 0], [1]]);
    expect(plan.count * 2).toBeGreaterThanOrEqual(9);
    expect(planAxis(1, 2, 1, 0, 8, 4).phases).toEqual([
      { taps: [0], dilation: 1, padBefore: 0, padAfter: 0 },
      null,
    ]);
  });
});

forEachMemoryMode(() => {
  describe('Conv2DBackpropInput on wasm', () => {
    it("is graft's kernel, replacing the stock one", () => {
      expect(tf.getKernel(KERNEL, 'wasm')?.kernelFunc).toBe(conv2dBackpropInputConfig.kernelFunc);
    });

    it('matches cpu (rel. error < 1e-4) on kernels 1/3/5, strides 1/2, every padding, odd sizes', async () => {
      const cases = conv2dGrid(1);
      expect(cases.length).toBeGreaterThan(80);
      const failures: string[] = [];
      for (const [i, c] of cases.entries()) {
        const dy = seededTensor(dyShape(c)!, 2 * i);
        const w = seededTensor(c.filterShape, 2 * i + 1);
        const { relError } = await compareWithCpu(() => backpropInput(dy, w, c));
        if (!(relError < 1e-4)) failures.push(`${describeCase(c)}: ${relError}`);
        tf.dispose([dy, w]);
      }
      expect(failures).toEqual([]);
    });

    it("matches cpu on 1x1 filters off the native product's tiles and blocks", async () => {
      const failures: string[] = [];
      for (const [i, c] of POINTWISE_CASES.entries()) {
        const dy = seededTensor(dyShape(c)!, 30 + i);
        const w = seededTensor(c.filterShape, 70 + i);
        const { relError } = await compareWithCpu(() => backpropInput(dy, w, c));
        if (!(relError < 1e-4)) failures.push(`${describeCase(c)}: ${relError}`);
        tf.dispose([dy, w]);
      }
      expect(failures).toEqual([]);
    });

    it('matches cpu at MobileNet-like sizes (batch 16; 1x1 matmul route)', async () => {
      const cases: Conv2dCase[] = [
        {
          xShape: [16, 12, 12, 16],
          filterShape: [1, 1, 16, 48],
          strides: [1, 1],
          dilations: [1, 1],
          pad: 'same',
        },
        {
          xShape: [16, 24, 24, 3],
          filterShape: [3, 3, 3, 16],
          strides: [2, 2],
          dilations: [1, 1],
          pad: 'same',
        },
        {
          xShape: [16, 12, 12, 8],
          filterShape: [3, 3, 8, 16],
          strides: [1, 1],
          dilations: [1, 1],
          pad: 'same',
        },
        // A 1x1 filter large enough for the matmul route.
        {
          xShape: [4, 3, 3, 320],
          filterShape: [1, 1, 320, 128],
          strides: [1, 1],
          dilations: [1, 1],
          pad: 'valid',
        },
      ];
      for (const [i, c] of cases.entries()) {
        const dy = seededTensor(dyShape(c)!, 50 + i);
        const w = seededTensor(c.filterShape, 60 + i);
        const { relError } = await compareWithCpu(() => backpropInput(dy, w, c));
        expect(relError, describeCase(c)).toBeLessThan(1e-4);
        tf.dispose([dy, w]);
      }
    });

    it('satisfies <conv2d(x, w), dy> = <x, dx> with dilation 1 and 2 (cpu ignores dilation)', () => {
      const { cases, failures } = convAdjointFailures('x', (_x, w, dy, c) =>
        backpropInput(dy, w, c),
      );
      expect(cases).toBeGreaterThan(60);
      expect(failures).toEqual([]);
    });

    it('gives tf.grad of conv2d w.r.t. the input that float64 finite differences confirm', () => {
      const c: Conv2dCase = {
        xShape: [2, 8, 7, 5],
        filterShape: [3, 3, 5, 4],
        strides: [2, 2],
        dilations: [1, 1],
        pad: 'same',
      };
      expect(tf.getBackend()).toBe('wasm');
      for (const error of convGradientErrors(c, 'x', 21, 200)) {
        expect(error).toBeLessThan(1e-4);
      }
    });

    it('rejects NCHW and an inputShape that does not produce dy, naming the kernel and shapes', () => {
      const c: Conv2dCase = {
        xShape: [1, 5, 5, 3],
        filterShape: [3, 3, 3, 2],
        strides: [2, 2],
        dilations: [1, 1],
        pad: 'same',
      };
      const w = tf.zeros(c.filterShape);
      const dy = tf.zeros([1, 3, 3, 2]);
      const nchw = catchError(() =>
        tf.engine().runKernel(
          KERNEL,
          { dy, filter: w },
          {
            ...convAttrs(c),
            dataFormat: 'NCHW',
            inputShape: c.xShape,
          },
        ),
      ) as GraftError;
      expect(nchw).toBeInstanceOf(GraftError);
      expect(nchw.code).toBe('KERNEL_BAD_INPUT');
      expect(nchw.message).toMatch(/Conv2DBackpropInput: dataFormat NCHW/);
      const wrong = catchError(() =>
        backpropInput(dy, w, { ...c, xShape: [1, 9, 9, 3] }),
      ) as GraftError;
      expect(wrong.code).toBe('KERNEL_BAD_INPUT');
      expect(wrong.message).toMatch(/dy is \[1, 3, 3, 2\].*\[1, 9, 9, 3\].*gives \[1, 5, 5, 2\]/);
      const rank = catchError(() =>
        backpropInput(dy, w, { ...c, xShape: [5, 5, 3] as never }),
      ) as GraftError;
      expect(rank.code).toBe('KERNEL_BAD_INPUT');
      expect(rank.message).toMatch(/input shape \[5, 5, 3\].*must both be rank 4/);
      const badStride = catchError(() =>
        backpropInput(dy, w, { ...c, strides: [0, 2] }),
      ) as GraftError;
      expect(badStride.message).toMatch(/strides must be positive integers/);
      tf.dispose([w, dy]);
    });

    it('leaks no tensors and no wasm data: stride 1, stride 2 with crop, 1x1 matmul route', () => {
      const backend = tf.backend() as BackendWasm;
      const cases: Conv2dCase[] = [1, 2].map((s) => ({
        xShape: [2, 9, 9, 17],
        filterShape: [3, 3, 17, 8],
        strides: [s, s],
        dilations: [1, 1],
        pad: 'valid',
      }));
      cases.push({
        xShape: [2, 3, 3, 256],
        filterShape: [1, 1, 256, 128],
        strides: [1, 1],
        dilations: [1, 1],
        pad: 'same',
      });
      for (const c of cases) {
        const dy = seededTensor(dyShape(c)!, 1);
        const w = seededTensor(c.filterShape, 2);
        backpropInput(dy, w, c).dispose();
        const tensors = tf.memory().numTensors;
        const dataIds = backend.numDataIds();
        for (let i = 0; i < 3; i++) backpropInput(dy, w, c).dispose();
        expect(tf.memory().numTensors).toBe(tensors);
        expect(backend.numDataIds()).toBe(dataIds);
        tf.dispose([dy, w]);
      }
    });
  });
});
