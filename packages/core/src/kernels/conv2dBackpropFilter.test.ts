import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { GraftError } from '../errors';
import { conv2dBackpropFilterConfig } from './conv2dBackpropFilter';
import {
  type Conv2dCase,
  conv2dGrid,
  convAdjointFailures,
  convAttrs,
  convGradientErrors,
  describeCase,
  dyShape,
} from './conv2dTestCases';
import { catchError } from './testing/catchError';
import { compareWithCpu, seededTensor } from './testing/compareWithCpu';
import { forEachMemoryMode } from './testing/memoryModes';

const KERNEL = tf.Conv2DBackpropFilter;

function backpropFilter(x: tf.Tensor, dy: tf.Tensor, c: Conv2dCase): tf.Tensor {
  return tf.engine().runKernel(KERNEL, { x, dy }, { ...convAttrs(c), filterShape: c.filterShape });
}

beforeAll(async () => {
  await initBackend();
});

// Zero-copy mode runs 1x1 filters through native/pointwise_filter_grad.c, own-memory mode
// (as tfjs's threaded build) through an XNNPACK matmul; every other filter through a conv.
forEachMemoryMode(() => {
  describe('Conv2DBackpropFilter on wasm', () => {
    it("is graft's kernel", () => {
      expect(tf.getKernel(KERNEL, 'wasm')?.kernelFunc).toBe(conv2dBackpropFilterConfig.kernelFunc);
    });

    it('matches cpu (rel. error < 1e-4) on kernels 1/3/5, strides 1/2, every padding, odd sizes', async () => {
      const cases = conv2dGrid(1);
      expect(cases.length).toBeGreaterThan(80);
      const failures: string[] = [];
      for (const [i, c] of cases.entries()) {
        const x = seededTensor(c.xShape, 2 * i);
        const dy = seededTensor(dyShape(c)!, 2 * i + 1);
        const { relError } = await compareWithCpu(() => backpropFilter(x, dy, c));
        if (!(relError < 1e-4)) failures.push(`${describeCase(c)}: ${relError}`);
        tf.dispose([x, dy]);
      }
      expect(failures).toEqual([]);
    });

    it('matches cpu at MobileNet-like sizes (1x1 route, 3x3 conv route, batch 16)', async () => {
      const cases: Conv2dCase[] = [
        // 1x1 with channels off the native kernel's 4x8 tiles, more than one 64-pixel block and
        // one 64-channel block, and the last layer's 112 -> 1280.
        {
          xShape: [3, 7, 9, 21],
          filterShape: [1, 1, 21, 75],
          strides: [1, 1],
          dilations: [1, 1],
          pad: 'valid',
        },
        {
          xShape: [4, 3, 3, 112],
          filterShape: [1, 1, 112, 1280],
          strides: [1, 1],
          dilations: [1, 1],
          pad: 'valid',
        },
        {
          xShape: [16, 12, 12, 16],
          filterShape: [1, 1, 16, 48],
          strides: [1, 1],
          dilations: [1, 1],
          pad: 'same',
        },
        {
          xShape: [16, 6, 6, 48],
          filterShape: [1, 1, 48, 8],
          strides: [1, 1],
          dilations: [1, 1],
          pad: 'valid',
        },
        {
          xShape: [16, 24, 24, 3],
          filterShape: [3, 3, 3, 16],
          strides: [2, 2],
          dilations: [1, 1],
          pad: 'same',
        },
      ];
      for (const [i, c] of cases.entries()) {
        const x = seededTensor(c.xShape, 50 + i);
        const dy = seededTensor(dyShape(c)!, 60 + i);
        const { relError } = await compareWithCpu(() => backpropFilter(x, dy, c));
        expect(relError, describeCase(c)).toBeLessThan(1e-4);
        tf.dispose([x, dy]);
      }
    });

    it('satisfies <conv2d(x, w), dy> = <w, dW> with dilation 1 and 2 (cpu ignores dilation)', () => {
      const { cases, failures } = convAdjointFailures('filter', (x, _w, dy, c) =>
        backpropFilter(x, dy, c),
      );
      expect(cases).toBeGreaterThan(60);
      expect(failures).toEqual([]);
    });

    it('gives tf.grad of conv2d w.r.t. the filter that float64 finite differences confirm', () => {
      const c: Conv2dCase = {
        xShape: [2, 9, 7, 5],
        filterShape: [3, 3, 5, 4],
        strides: [2, 2],
        dilations: [1, 1],
        pad: 'same',
      };
      expect(tf.getBackend()).toBe('wasm');
      for (const error of convGradientErrors(c, 'filter', 11, 100)) {
        expect(error).toBeLessThan(1e-4);
      }
    });

    it('rejects NCHW, naming the kernel', () => {
      const c: Conv2dCase = {
        xShape: [1, 5, 5, 3],
        filterShape: [3, 3, 3, 2],
        strides: [1, 1],
        dilations: [1, 1],
        pad: 'same',
      };
      const x = tf.zeros(c.xShape);
      const dy = tf.zeros([1, 5, 5, 2]);
      const err = catchError(() =>
        tf.engine().runKernel(
          KERNEL,
          { x, dy },
          {
            ...convAttrs(c),
            dataFormat: 'NCHW',
            filterShape: c.filterShape,
          },
        ),
      ) as GraftError;
      expect(err).toBeInstanceOf(GraftError);
      expect(err.code).toBe('KERNEL_BAD_INPUT');
      expect(err.message).toMatch(/Conv2DBackpropFilter: dataFormat NCHW/);
      tf.dispose([x, dy]);
    });

    it('rejects a dy of the wrong size, mismatched channels and int32 input, with shapes', () => {
      const c: Conv2dCase = {
        xShape: [1, 5, 5, 3],
        filterShape: [3, 3, 3, 2],
        strides: [2, 2],
        dilations: [1, 1],
        pad: 'same',
      };
      const x = tf.zeros(c.xShape);
      const dyBig = tf.zeros([1, 5, 5, 2]);
      const size = catchError(() => backpropFilter(x, dyBig, c)) as GraftError;
      expect(size.code).toBe('KERNEL_BAD_INPUT');
      expect(size.message).toMatch(/dy is \[1, 5, 5, 2\].*gives \[1, 3, 3, 2\]/);
      const dy3 = tf.zeros([1, 3, 3, 3]);
      const channels = catchError(() => backpropFilter(x, dy3, c)) as GraftError;
      expect(channels.code).toBe('KERNEL_BAD_INPUT');
      expect(channels.message).toMatch(
        /channels disagree.*filter \[3, 3, 3, 2\].*dy \[1, 3, 3, 3\]/,
      );
      const xInt = tf.zeros(c.xShape, 'int32');
      const dy = tf.zeros([1, 3, 3, 2]);
      const dtype = catchError(() => backpropFilter(xInt, dy, c)) as GraftError;
      expect(dtype.code).toBe('KERNEL_BAD_INPUT');
      expect(dtype.message).toMatch(/x must be a rank-4 float32 NHWC tensor, got int32/);
      tf.dispose([x, dyBig, dy3, xInt, dy]);
    });

    it("leaves no stale XNNPACK matmul operator on the caller's x or dy", async () => {
      // tfjs-backend-wasm caches the packed right-hand matmul operand under its data id,
      // without its shape. Were x or dy handed to XNNPACK directly, a later matMul with the
      // same data viewed in another shape would reuse the stale packing.
      for (const cout of [8, 2]) {
        const c: Conv2dCase = {
          xShape: [2, 4, 4, 4],
          filterShape: [1, 1, 4, cout],
          strides: [1, 1],
          dilations: [1, 1],
          pad: 'valid',
        };
        const x = seededTensor(c.xShape, 7);
        const dy = seededTensor(dyShape(c)!, 8);
        backpropFilter(x, dy, c).dispose();
        for (const t of [x, dy]) {
          const b = tf.reshape(t, [t.size / 16, 16]);
          const a = seededTensor([5, t.size / 16], 9);
          const { relError } = await compareWithCpu(() => tf.matMul(a, b));
          expect(relError, `cout ${cout}, operand [${t.shape}]`).toBeLessThan(1e-4);
          tf.dispose([a, b]);
        }
        tf.dispose([x, dy]);
      }
    });

    it('leaks no tensors and no wasm data, on either route', () => {
      const backend = tf.backend() as BackendWasm;
      for (const k of [1, 3]) {
        const c: Conv2dCase = {
          xShape: [2, 9, 9, 17],
          filterShape: [k, k, 17, 8],
          strides: [2, 2],
          dilations: [1, 1],
          pad: 'same',
        };
        const x = seededTensor(c.xShape, 1);
        const dy = seededTensor(dyShape(c)!, 2);
        backpropFilter(x, dy, c).dispose();
        const tensors = tf.memory().numTensors;
        const dataIds = backend.numDataIds();
        for (let i = 0; i < 3; i++) backpropFilter(x, dy, c).dispose();
        expect(tf.memory().numTensors).toBe(tensors);
        expect(backend.numDataIds()).toBe(dataIds);
        tf.dispose([x, dy]);
      }
    });
  });
});
