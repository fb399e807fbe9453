import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from '../kernels/batchNormTrain';
import {
  inputName,
  OPTIMIZER_STEP_KERNEL,
  registerOptimizerStepKernel,
} from '../train/optimizer/optimizerStepKernel';
import { nativeKernels, setNativeMemoryMode } from './nativeKernels';

/**
 * In zero-copy mode graft's kernel module runs inside tfjs's own heap. These tests check that
 * it writes nothing but its outputs and scratch: tensors allocated around the kernels' inputs
 * and outputs keep their bytes, and every kernel gives the same bits as in own-memory mode
 * (which copies tensors in and out; the same C arithmetic, on shapes small enough that the
 * own-memory path runs in one chunk, so not even the order of sums differs).
 */

beforeAll(async () => {
  await initBackend();
  registerOptimizerStepKernel();
});
afterAll(() => setNativeMemoryMode('auto'));

/** Deterministic float32 values in [-2, 2). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 4 - 2;
  });
}

const tensor = (shape: number[], seed: number) =>
  tf.tensor(
    values(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );

/** A tensor of known bytes, to check afterwards. */
function sentinel(n: number, seed: number): { t: tf.Tensor; expected: Float32Array } {
  const expected = values(n, seed);
  return { t: tf.tensor1d(expected), expected };
}

/** Runs every native kernel once (channel counts with and without 4-float tails). */
function workload(seed: number): Float32Array[] {
  const results: tf.Tensor[] = [];
  const run = (name: string, inputs: tf.NamedTensorMap, attrs: object) => {
    const out = tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap);
    results.push(...(Array.isArray(out) ? out : [out]));
  };
  const temps: tf.Tensor[] = [];
  const t = (shape: number[], s: number) => {
    const x = tensor(shape, seed * 100 + s);
    temps.push(x);
    return x;
  };
  for (const c of [3, 8]) {
    // Batch norm, forward and backward, with a fused ReLU6.
    const attrs = { epsilon: 1e-3, activation: 'relu', maxValue: 6 };
    const x = t([2, 5, 5, c], 1);
    run(BATCH_NORM_TRAIN, { x, gamma: t([c], 2), beta: t([c], 3) }, attrs);
    const stats = results[results.length - 1] as tf.Tensor;
    run(BATCH_NORM_TRAIN_GRAD, { dy: t([2, 5, 5, c], 4), x, stats }, attrs);
    // Depthwise backprop, multiplier 1 and 2, strided, padded.
    for (const m of [1, 2]) {
      const conv = { strides: [2, 2], dilations: [1, 1], pad: 'same' } as const;
      const dy = t([2, 4, 4, c * m], 5);
      run(
        tf.DepthwiseConv2dNativeBackpropFilter,
        { x: t([2, 7, 7, c], 6), dy },
        {
          ...conv,
          filterShape: [3, 3, c, m],
        },
      );
      run(
        tf.DepthwiseConv2dNativeBackpropInput,
        { dy, filter: t([3, 3, c, m], 7) },
        {
          ...conv,
          inputShape: [2, 7, 7, c],
        },
      );
    }
    const ids = tf.tensor1d([0, 2, 1, -1, 2, 5], 'int32');
    temps.push(ids);
    run(tf.UnsortedSegmentSum, { x: t([6, c], 8), segmentIds: ids }, { numSegments: 3 });
  }
  // The optimizer step (native in zero-copy mode, JavaScript in own-memory mode: the same
  // bits without clipping, see optimizerStepKernel.test.ts).
  const sizes = [3, 17, 8];
  const inputs: tf.NamedTensorMap = {};
  sizes.forEach((n, i) => {
    inputs[inputName.param(i)] = t([n], 20 + i);
    inputs[inputName.grad(i)] = t([n], 30 + i);
    inputs[inputName.state(0, i)] = t([n], 40 + i);
    inputs[inputName.state(1, i)] = tf.abs(t([n], 50 + i));
    temps.push(inputs[inputName.state(1, i)] as tf.Tensor);
  });
  run(OPTIMIZER_STEP_KERNEL, inputs, {
    rule: 'adam',
    count: sizes.length,
    learningRates: [0.1, 0.2, 0.3],
    l2: [0.01, 0, 0],
    decoupled: [0, 0.01, 0],
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
    correction1: 0.1,
    correction2: 0.001,
    momentum: 0,
    nesterov: false,
    clipNorm: 0,
  });
  const data = results.map((r) => Float32Array.from(r.dataSync()));
  tf.dispose([...results, ...temps]);
  return data;
}

describe('the zero-copy kernel module in tfjs heap', () => {
  it('runs in zero-copy mode on the default (non-threaded) wasm backend', () => {
    setNativeMemoryMode('auto');
    expect(nativeKernels('test', tf.backend()).zeroCopy).toBe(true);
    setNativeMemoryMode('own');
    expect(nativeKernels('test', tf.backend()).zeroCopy).toBe(false);
    setNativeMemoryMode('auto');
  });

  it('leaves every other tensor intact, leaks none, and matches own-memory mode bit for bit', () => {
    setNativeMemoryMode('own');
    const reference = [1, 2, 3].map(workload);
    setNativeMemoryMode('auto');
    const before = tf.memory().numTensors;
    const sentinels = [sentinel(1001, 7)];
    for (let i = 0; i < 3; i++) {
      const got = workload(i + 1);
      sentinels.push(sentinel(37 + i, 11 + i)); // between calls, next to fresh outputs
      expect(got.length).toBe(reference[i]?.length);
      got.forEach((r, j) => {
        expect(r, `call ${i} result ${j}`).toEqual(reference[i]?.[j]);
      });
    }
    for (const { t, expected } of sentinels) {
      expect(Float32Array.from(t.dataSync())).toEqual(expected);
    }
    tf.dispose(sentinels.map((s) => s.t));
    expect(tf.memory().numTensors).toBe(before);
  });
});
