import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { type DepthwiseCase, describeCase } from '../../native/depthwiseTestCases';
import { compareWithCpu } from './compareWithCpu';

/**
 * What the tests of the two depthwise backward kernels share: both take two operands per case
 * (x and dy, or dy and the filter) and are held to the cpu backend over the same grids, the
 * same chunked batches and the same leak check.
 */
export interface DepthwiseBackprop {
  /** The kernel's two operands for case `c`, seeded from `seeds`. */
  operands(c: DepthwiseCase, seeds: readonly [number, number]): tf.Tensor[];
  run(operands: readonly tf.Tensor[], c: DepthwiseCase): tf.Tensor;
}

/**
 * The cases whose batch the kernels split into chunks of about 512 KiB of images, with a
 * shorter last chunk (each kernel's test says how its images divide).
 */
export const CHUNKED_CASES: readonly DepthwiseCase[] = [
  {
    xShape: [3, 40, 40, 48],
    filterShape: [3, 3, 48, 1],
    strides: [1, 1],
    dilations: [1, 1],
    pad: 'same',
  },
  {
    xShape: [5, 16, 16, 64],
    filterShape: [3, 3, 64, 1],
    strides: [1, 1],
    dilations: [1, 1],
    pad: 'same',
  },
  {
    xShape: [3, 20, 20, 40],
    filterShape: [3, 3, 40, 2],
    strides: [2, 2],
    dilations: [1, 1],
    pad: 'valid',
  },
];

/**
 * The cases where the kernel and the cpu backend differ by a relative error of 1e-4 or more
 * ("case: error"); case `i`'s operands are seeded from `seeds(i)`.
 */
export async function cpuDisagreements(
  k: DepthwiseBackprop,
  cases: readonly DepthwiseCase[],
  seeds: (i: number) => readonly [number, number],
): Promise<string[]> {
  const failures: string[] = [];
  for (const [i, c] of cases.entries()) {
    const operands = k.operands(c, seeds(i));
    const { relError } = await compareWithCpu(() => k.run(operands, c));
    if (!(relError < 1e-4)) failures.push(`${describeCase(c)}: ${relError}`);
    tf.dispose(operands);
  }
  return failures;
}

/** Repeated runs on case `c` leave no tensor and no wasm data behind (after one warm-up). */
export function expectNoLeaks(k: DepthwiseBackprop, c: DepthwiseCase): void {
  const operands = k.operands(c, [1, 2]);
  k.run(operands, c).dispose(); // warm up: first use may allocate scratch
  const backend = tf.backend() as BackendWasm;
  const tensors = tf.memory().numTensors;
  const dataIds = backend.numDataIds();
  for (let i = 0; i < 3; i++) k.run(operands, c).dispose();
  expect(tf.memory().numTensors).toBe(tensors);
  expect(backend.numDataIds()).toBe(dataIds);
  tf.dispose(operands);
}
