import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { zeroCopyNativeKernels } from '../native/nativeKernels';
import {
  type Conv2dCase,
  conv2dGrid,
  convAttrs,
  describeCase,
  POINTWISE_CASES,
} from './conv2dTestCases';
import { pointwiseConv2dConfig } from './pointwiseConv2d';
import { stockKernel } from './stockKernels';
import { compareWithCpu, seededTensor } from './testing/compareWithCpu';
import { forEachMemoryMode } from './testing/memoryModes';

function conv(x: tf.Tensor, filter: tf.Tensor, c: Conv2dCase): tf.Tensor {
  return tf.engine().runKernel(tf.Conv2D, { x, filter }, convAttrs(c));
}

beforeAll(async () => {
  await initBackend();
});

forEachMemoryMode((mode) => {
  describe('Conv2D on wasm', () => {
    it("is graft's kernel, with the stock one kept for what it does not cover", () => {
      expect(tf.getKernel(tf.Conv2D, 'wasm')?.kernelFunc).toBe(pointwiseConv2dConfig.kernelFunc);
      expect(stockKernel(tf.Conv2D, 'wasm')).toBeTypeOf('function');
      expect(zeroCopyNativeKernels(tf.backend()) !== undefined).toBe(mode === 'auto');
    });

    it('matches cpu (rel. error < 1e-4) on 1x1 filters off the tiles and blocks', async () => {
      const failures: string[] = [];
      for (const [i, c] of POINTWISE_CASES.entries()) {
        const x = seededTensor(c.xShape, 2 * i);
        const w = seededTensor(c.filterShape, 2 * i + 1);
        const { relError } = await compareWithCpu(() => conv(x, w, c));
        if (!(relError < 1e-4)) failures.push(`${describeCase(c)}: ${relError}`);
        tf.dispose([x, w]);
      }
      expect(failures).toEqual([]);
    });

    it('matches cpu on kernels 1/3/5, strides 1/2, every padding (the stock kernel beyond 1x1)', async () => {
      // Not the 'ceil'-rounded cases: the stock wasm Conv2D ignores dimRoundingMode (cpu
      // does not), which graft's layers never set.
      const cases = conv2dGrid(1).filter((c) => c.dimRoundingMode === undefined);
      const failures: string[] = [];
      for (const [i, c] of cases.entries()) {
        const x = seededTensor(c.xShape, 3 * i);
        const w = seededTensor(c.filterShape, 3 * i + 1);
        const { relError } = await compareWithCpu(() => conv(x, w, c));
        if (!(relError < 1e-4)) failures.push(`${describeCase(c)}: ${relError}`);
        tf.dispose([x, w]);
      }
      expect(cases.filter((c) => c.filterShape[0] === 1).length).toBeGreaterThan(20);
      expect(failures).toEqual([]);
    });

    it("gives XNNPACK's bits: the same sums in the same order", () => {
      // The stock kernel on the same 1x1 product, reached through a padding that adds one
      // row after the image (so graft's kernel hands it back), then that row sliced off.
      for (const [i, c] of POINTWISE_CASES.entries()) {
        const [b, h, w, cin] = c.xShape;
        const cout = c.filterShape[3];
        const x = seededTensor(c.xShape, 40 + i);
        const f = seededTensor(c.filterShape, 60 + i);
        const ours = conv(x, f, c);
        const padded = conv(x, f, {
          ...c,
          pad: [
            [0, 0],
            [0, 1],
            [0, 0],
            [0, 0],
          ] as never,
        });
        const stock = tf.slice(padded, [0, 0, 0, 0], [b, h, w, cout]);
        expect(Array.from(ours.dataSync()), `${b}x${h}x${w}x${cin} -> ${cout}`).toEqual(
          Array.from(stock.dataSync()),
        );
        tf.dispose([x, f, ours, padded, stock]);
      }
    });

    it('gives conv2d gradients (input and filter) that match cpu through tf.grads', async () => {
      for (const [i, c] of [POINTWISE_CASES[6]!, POINTWISE_CASES[7]!].entries()) {
        const x = seededTensor(c.xShape, 80 + i);
        const w = seededTensor(c.filterShape, 90 + i);
        const r = seededTensor([...c.xShape.slice(0, 3), c.filterShape[3]], 100 + i);
        const grads = (k: 0 | 1) => () =>
          tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.tanh(conv(a, b, c)), r)))([
            x,
            w,
          ])[k]!;
        expect((await compareWithCpu(grads(0))).relError, describeCase(c)).toBeLessThan(1e-4);
        expect((await compareWithCpu(grads(1))).relError, describeCase(c)).toBeLessThan(1e-4);
        tf.dispose([x, w, r]);
      }
    });

    it('leaks no tensors and no wasm data, and reads each new filter (no stale cache)', () => {
      const c = POINTWISE_CASES[7]!;
      const x = seededTensor(c.xShape, 7);
      const base = seededTensor(c.filterShape, 3);
      const backend = tf.backend() as BackendWasm;
      const before = { tensors: tf.memory().numTensors, data: backend.numDataIds() };
      let previous: number[] | undefined;
      for (let step = 0; step < 5; step++) {
        // A new filter every step, as training makes: each result must follow its filter.
        const w = tf.mul(base, step + 1);
        const y = conv(x, w, c);
        const values = Array.from(y.dataSync());
        if (previous) {
          expect(values[0]! / previous[0]!).toBeCloseTo((step + 1) / step, 4);
        }
        previous = values;
        tf.dispose([w, y]);
      }
      expect({ tensors: tf.memory().numTensors, data: backend.numDataIds() }).toEqual(before);
      tf.dispose([x, base]);
    });
  });
});
