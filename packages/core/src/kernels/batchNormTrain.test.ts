import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { GraftError } from '../errors';
import { mobileNetV2 } from '../models/mobileNetV2';
import { nativeKernels } from '../native/nativeKernels';
import { batchNormTraining, composedBatchNormTraining } from '../nn/batchNormTraining';
import { clippedRelu } from '../nn/relu';
import { batchNormLossInFloat64, seededRandom } from '../nn/testHelpers';
import {
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  batchNormTrainConfig,
  MOVING_STATISTICS,
} from './batchNormTrain';
import { agreement } from './testing/compareWithCpu';
import { forEachMemoryMode } from './testing/memoryModes';

beforeAll(async () => {
  await initBackend();
});
afterEach(async () => {
  await tf.setBackend('wasm');
});

const EPS = 1e-3;
type Relu = { maxValue?: number } | undefined;
const ACTIVATIONS: Array<[string, Relu]> = [
  ['linear', undefined],
  ['relu', {}],
  ['relu6', { maxValue: 6 }],
];

/** Values of x * spread + offset, seeded; gamma around 1.5, beta around 0 (both varied). */
function fixture(shape: number[], seed: number, spread = 3, offset = 0.5) {
  const random = seededRandom(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const c = shape[shape.length - 1] as number;
  const values = (n: number, scale: number, shift: number) =>
    Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale + shift);
  return {
    x: values(size, spread, offset),
    gamma: values(c, 1, 1.5),
    beta: values(c, 2, 0),
    // Weights of the scalar loss sum(y * w), so that dy varies.
    w: values(size, 1, 0),
    shape,
    c,
  };
}
type Fixture = ReturnType<typeof fixture>;

interface Result {
  y: Float32Array;
  dx: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
  movingMean: Float32Array;
  movingVariance: Float32Array;
}

/** Forward, moving statistics and gradients of sum(bn(x) * w) on the active backend. */
function run(f: Fixture, relu: Relu, bn: typeof batchNormTraining = batchNormTraining): Result {
  const x = tf.tensor(f.x, f.shape);
  const gamma = tf.tensor1d(f.gamma);
  const beta = tf.tensor1d(f.beta);
  const w = tf.tensor(f.w, f.shape);
  const movingMean = tf.variable(tf.fill([f.c], 0.25), false);
  const movingVariance = tf.variable(tf.fill([f.c], 2), false);
  const apply = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
    bn(xi, {
      gamma: g,
      beta: b,
      movingMean,
      movingVariance,
      momentum: 0.9,
      epsilon: EPS,
      ...(relu ? { relu } : {}),
    });
  const y = tf.tidy(() => apply(x, gamma, beta));
  const grads = tf.grads((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(apply(xi, g, b), w)),
  )([x, gamma, beta]);
  const read = (t: tf.Tensor) => Float32Array.from(t.dataSync());
  const out = {
    y: read(y),
    dx: read(grads[0] as tf.Tensor),
    dgamma: read(grads[1] as tf.Tensor),
    dbeta: read(grads[2] as tf.Tensor),
    movingMean: read(movingMean),
    movingVariance: read(movingVariance),
  };
  tf.dispose([x, gamma, beta, w, movingMean, movingVariance, y, ...grads]);
  return out;
}

/** The composed implementation (and a separate activation) on tfjs's cpu backend. */
async function onCpu(f: Fixture, relu: Relu): Promise<Result> {
  await tf.setBackend('cpu');
  try {
    return run(f, relu, (x, args) => {
      const y = composedBatchNormTraining(x, args);
      if (!args.relu) return y;
      const max = args.relu.maxValue;
      return max === undefined ? tf.relu(y) : clippedRelu(y, max);
    });
  } finally {
    await tf.setBackend('wasm');
  }
}

const SHAPES: Array<[string, number[]]> = [
  ['odd channels (3)', [2, 5, 7, 3]],
  ['channels 13, not a multiple of 4', [3, 4, 5, 13]],
  ['batch 1, 1x1 spatial', [1, 1, 1, 7]],
  ['batch 1', [1, 6, 6, 16]],
  ['1x1 spatial', [5, 1, 1, 24]],
  ['rank 2', [9, 5]],
  ['a MobileNetV2-like layer', [4, 12, 12, 48]],
  // The kernels copy ~32K floats of rows at a time: several chunks, the last one partial.
  ['chunks of rows, odd channels', [8, 30, 31, 5]],
  ['chunks of rows, 64 channels', [2, 40, 41, 64]],
];

forEachMemoryMode(() => {
  describe('GraftBatchNormTrain on wasm (graft SIMD kernel, fused activation)', () => {
    it('is registered for wasm with its gradient', () => {
      expect(tf.getKernel(BATCH_NORM_TRAIN, 'wasm')).toBeDefined();
      expect(tf.getKernel(BATCH_NORM_TRAIN_GRAD, 'wasm')).toBeDefined();
      expect(tf.getKernel(MOVING_STATISTICS, 'wasm')).toBeDefined();
      expect(tf.getGradient(BATCH_NORM_TRAIN)).toBeDefined();
    });

    it('matches the composed version on cpu: values, moving statistics and gradients', async () => {
      const failures: string[] = [];
      for (const [i, [label, shape]] of SHAPES.entries()) {
        for (const [name, relu] of ACTIVATIONS) {
          const f = fixture(shape, 10 + i);
          const got = run(f, relu);
          const want = await onCpu(f, relu);
          for (const key of Object.keys(want) as (keyof Result)[]) {
            const { relError } = agreement(got[key], want[key]);
            // Batch 1 at 1x1 has one value per channel: xhat = 0 and dx = 0 up to rounding.
            if (!(relError < 1e-4)) failures.push(`${label} ${name} ${key}: ${relError}`);
          }
        }
      }
      expect(failures).toEqual([]);
    });

    it('stays accurate for large values with a small spread', async () => {
      // 5000 +- 3: a one-pass sum of squares in float32 would lose the variance entirely.
      const f = fixture([4, 8, 8, 12], 3, 3, 5000);
      for (const [name, relu] of ACTIVATIONS) {
        const got = run(f, relu);
        const want = await onCpu(f, relu);
        for (const key of ['y', 'dx', 'dgamma', 'dbeta'] as const) {
          const { relError } = agreement(got[key], want[key]);
          expect(relError, `${name} ${key}`).toBeLessThan(2e-3);
        }
        // Against float64 statistics (the cpu composed version has its own float32 error).
        const mean = new Float64Array(f.c);
        const variance = new Float64Array(f.c);
        const n = f.x.length / f.c;
        f.x.forEach((v, i) => {
          mean[i % f.c] = (mean[i % f.c] as number) + v / n;
        });
        f.x.forEach((v, i) => {
          variance[i % f.c] =
            (variance[i % f.c] as number) + (v - (mean[i % f.c] as number)) ** 2 / n;
        });
        // run() applies the layer twice (forward alone, then under tf.grads): two updates.
        const expectedMoving = Array.from(variance, (v) => 0.9 * (0.9 * 2 + 0.1 * v) + 0.1 * v);
        expect(agreement(got.movingVariance, expectedMoving).maxAbsDiff).toBeLessThan(1e-4);
      }
    });

    it('has the gradients of central finite differences in float64, with ReLU6', () => {
      const f = fixture([3, 4, 5, 6], 21);
      // beta in [-6, 6): some outputs on each flat part of ReLU6.
      f.beta = f.beta.map((b) => b * 3);
      const relu = { maxValue: 6 };
      const got = run(f, relu);
      const x = Float64Array.from(f.x);
      const gamma = Float64Array.from(f.gamma);
      const beta = Float64Array.from(f.beta);
      const loss = () =>
        batchNormLossInFloat64(x, gamma, beta, f.w, {
          channels: f.c,
          epsilon: EPS,
          act: (z) => Math.min(Math.max(z, 0), 6),
        });
      const h = 1e-6;
      const numeric = (arr: Float64Array, i: number) => {
        const saved = arr[i] as number;
        arr[i] = saved + h;
        const up = loss();
        arr[i] = saved - h;
        const down = loss();
        arr[i] = saved;
        return (up - down) / (2 * h);
      };
      const pick = seededRandom(5);
      const xIdx = Array.from({ length: 60 }, () => Math.floor(pick() * x.length));
      const check = (analytic: Float32Array, arr: Float64Array, idx: number[]) => {
        const a = idx.map((i) => analytic[i] as number);
        const nmr = idx.map((i) => numeric(arr, i));
        expect(agreement(a, nmr).relError).toBeLessThan(1e-4);
      };
      check(got.dx, x, xIdx);
      check(got.dgamma, gamma, [...gamma.keys()]);
      check(got.dbeta, beta, [...beta.keys()]);
      // Some outputs sit on each flat part of ReLU6, so the mask is exercised.
      expect(got.y.some((v) => v === 0)).toBe(true);
      expect(got.y.some((v) => v === 6)).toBe(true);
    });

    it('is one kernel call forward and one backward, the moving statistics updated in place', async () => {
      const f = fixture([2, 4, 4, 8], 1);
      const x = tf.tensor(f.x, f.shape);
      const gamma = tf.tensor1d(f.gamma);
      const beta = tf.tensor1d(f.beta);
      // Variables that own their data (their starting tensors freed).
      const movingMean = tf.tidy(() => tf.variable(tf.zeros([f.c]), false));
      const movingVariance = tf.tidy(() => tf.variable(tf.ones([f.c]), false));
      const profile = await tf.profile(() => {
        const gs = tf.grads((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
          tf.sum(
            batchNormTraining(xi, {
              gamma: g,
              beta: b,
              movingMean,
              movingVariance,
              momentum: 0.9,
              epsilon: EPS,
              relu: { maxValue: 6 },
            }),
          ),
        )([x, gamma, beta]);
        tf.dispose(gs);
      });
      // kernelNames lists each name once; kernels has every call.
      const count = (name: string) => profile.kernels.filter((k) => k.name === name).length;
      expect(count(BATCH_NORM_TRAIN)).toBe(1);
      expect(count(MOVING_STATISTICS)).toBe(0);
      expect(count(BATCH_NORM_TRAIN_GRAD)).toBe(1);
      expect(profile.kernelNames).not.toContain('Relu6');
      expect(profile.kernelNames).not.toContain('BatchMatMul');
      tf.dispose([x, gamma, beta, movingMean, movingVariance]);
    });

    it("updates the moving statistics in place with the kernel's bits, and by the kernel while their data is shared", () => {
      const f = fixture([3, 5, 5, 7], 4);
      const x = tf.tensor(f.x, f.shape);
      const gamma = tf.tensor1d(f.gamma);
      const beta = tf.tensor1d(f.beta);
      const start = { mean: f.gamma.map((g) => g * 0.1), variance: f.beta.map((b) => 1 + b * b) };
      const run = (shared: boolean) => {
        const movingMean = tf.tidy(() => tf.variable(tf.tensor1d(start.mean), false));
        const movingVariance = tf.tidy(() => tf.variable(tf.tensor1d(start.variance), false));
        const ids = [movingMean.dataId, movingVariance.dataId];
        // A tensor sharing the data (graft's Identity shares) must keep the old values.
        const holders = shared ? [tf.clone(movingMean), tf.clone(movingVariance)] : [];
        const before = tf.memory().numTensors;
        tf.tidy(() => {
          batchNormTraining(x, {
            gamma,
            beta,
            movingMean,
            movingVariance,
            momentum: 0.9,
            epsilon: EPS,
          });
        });
        expect(tf.memory().numTensors).toBe(before);
        const inPlace = movingMean.dataId === ids[0] && movingVariance.dataId === ids[1];
        expect(inPlace).toBe(!shared);
        for (const [i, h] of holders.entries()) {
          expect(Array.from(h.dataSync())).toEqual(
            Array.from(Float32Array.from(i ? start.variance : start.mean)),
          );
        }
        const out = [Array.from(movingMean.dataSync()), Array.from(movingVariance.dataSync())];
        tf.dispose([movingMean, movingVariance, ...holders]);
        return out;
      };
      const kernel = run(true);
      expect(run(false)).toEqual(kernel);
      expect(kernel[0]).not.toEqual(Array.from(Float32Array.from(start.mean)));
      tf.dispose([x, gamma, beta]);
    });

    it('keeps the moving statistics off the gradient tape', () => {
      const f = fixture([2, 3, 3, 5], 2);
      const x = tf.tensor(f.x, f.shape);
      const gamma = tf.variable(tf.tensor1d(f.gamma));
      const beta = tf.tensor1d(f.beta);
      // Trainable on purpose: if the update were differentiated, it would get a gradient.
      const movingMean = tf.variable(tf.zeros([f.c]), true);
      const movingVariance = tf.variable(tf.ones([f.c]), true);
      const { value, grads } = tf.variableGrads(
        () =>
          tf.sum(
            batchNormTraining(x, {
              gamma,
              beta,
              movingMean,
              movingVariance,
              momentum: 0.9,
              epsilon: EPS,
            }),
          ) as tf.Scalar,
        [gamma, movingMean, movingVariance],
      );
      expect(Object.keys(grads)).toEqual([gamma.name]);
      tf.dispose([value, ...Object.values(grads), x, gamma, beta, movingMean, movingVariance]);
    });

    it('rejects bad operands with GraftErrors that name the kernel', () => {
      const x = tf.zeros([2, 3, 3, 5]);
      const c5 = tf.ones([5]);
      const c4 = tf.ones([4]);
      const attrs = { epsilon: EPS, activation: 'linear', maxValue: 0 };
      const expectError = (fn: () => unknown, pattern: RegExp) => {
        let err: unknown;
        try {
          fn();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(GraftError);
        expect((err as GraftError).code).toBe('KERNEL_BAD_INPUT');
        expect((err as GraftError).message).toMatch(pattern);
      };
      const engine = tf.engine();
      expectError(
        () => engine.runKernel(BATCH_NORM_TRAIN, { x, gamma: c4, beta: c5 }, attrs),
        /gamma must have shape \[5\].*got \[4\].*GraftBatchNormTrain/,
      );
      expectError(
        () => engine.runKernel(BATCH_NORM_TRAIN, { x: tf.zeros([5]), gamma: c5, beta: c5 }, attrs),
        /x must have rank >= 2/,
      );
      expectError(
        () =>
          engine.runKernel(
            BATCH_NORM_TRAIN,
            { x, gamma: c5, beta: c5 },
            {
              ...attrs,
              activation: 'relu',
              maxValue: -1,
            },
          ),
        /activation must be/,
      );
      expectError(
        () => engine.runKernel(BATCH_NORM_TRAIN, { x, gamma: c5 }, attrs),
        /missing input beta/,
      );
      const stats5 = tf.ones([5, 5]);
      const stats4 = tf.ones([5, 4]);
      expectError(
        () =>
          engine.runKernel(
            BATCH_NORM_TRAIN_GRAD,
            { dy: tf.zeros([2, 3, 3, 4]), x, stats: stats5 },
            attrs,
          ),
        /dy \[2, 3, 3, 4\] must have x's shape \[2, 3, 3, 5\]/,
      );
      expectError(
        () => engine.runKernel(BATCH_NORM_TRAIN_GRAD, { dy: x, x, stats: stats4 }, attrs),
        /stats must have shape \[5, 5\].*got \[5, 4\]/,
      );
      expectError(
        () => engine.runKernel(BATCH_NORM_TRAIN_GRAD, { dy: x, x, stats: c5 }, attrs),
        /stats must have shape \[5, 5\].*got \[5\]/,
      );
      expectError(
        () =>
          engine.runKernel(
            MOVING_STATISTICS,
            { movingMean: c4, movingVariance: c5, stats: stats5 },
            { momentum: 0.9 },
          ),
        /movingMean must have shape \[5\]/,
      );
      expectError(
        () =>
          engine.runKernel(
            MOVING_STATISTICS,
            { movingMean: c5, movingVariance: c5, stats: stats5 },
            { momentum: 1.5 },
          ),
        /momentum must be in \[0, 1\]/,
      );
      tf.dispose([stats5, stats4]);
      tf.dispose([x, c5, c4]);
    });

    it('leaks no tensors, no wasm data and no native memory across steps', () => {
      const f = fixture([4, 10, 10, 24], 4);
      const x = tf.tensor(f.x, f.shape);
      const gamma = tf.tensor1d(f.gamma);
      const beta = tf.tensor1d(f.beta);
      const movingMean = tf.variable(tf.zeros([f.c]), false);
      const movingVariance = tf.variable(tf.ones([f.c]), false);
      const step = () => {
        const gs = tf.grads((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
          tf.sum(
            batchNormTraining(xi, {
              gamma: g,
              beta: b,
              movingMean,
              movingVariance,
              momentum: 0.9,
              epsilon: EPS,
              relu: { maxValue: 6 },
            }),
          ),
        )([x, gamma, beta]);
        tf.dispose(gs);
      };
      step();
      const backend = tf.backend() as BackendWasm;
      const tensors = tf.memory().numTensors;
      const dataIds = backend.numDataIds();
      const native = nativeKernels(BATCH_NORM_TRAIN).memoryBytes;
      for (let i = 0; i < 5; i++) step();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(backend.numDataIds()).toBe(dataIds);
      expect(nativeKernels(BATCH_NORM_TRAIN).memoryBytes).toBe(native);
      tf.dispose([x, gamma, beta, movingMean, movingVariance]);
    });

    it('gives MobileNetV2 the losses and gradients of the composed version along a trajectory', () => {
      // A randomly initialised MobileNetV2 on random images is chaotic: perturbing the input by
      // 1e-6 changes the loss after one SGD step by ~10% with either implementation. So rather
      // than two free-running trajectories, every step computes the loss and gradients both ways
      // at the same weights (the fused kernel, then with it unregistered, when
      // batchNormTraining composes tfjs ops on wasm) and moves on with the composed update.
      // Losses must agree at every step; gradients on the first step only: after one or two
      // updates this net's gradients are so ill-conditioned that float rounding alone moves
      // them by 1e-3 to 1e-2 (the composed version on wasm and on cpu differ that much too,
      // some parameters by 700%).
      const net = mobileNetV2({ alpha: 0.35, inputShape: [64, 64, 3], seed: 3 });
      const images = tf.randomUniform([8, 64, 64, 3], 0, 1, 'float32', 5);
      const head = tf.variable(tf.randomNormal([1280, 1], 0, 0.05, 'float32', 6));
      const labels = tf.tensor2d([1, 0, 1, 0, 0, 1, 1, 0], [8, 1]);
      const vars = [...net.params.filter((p) => p.trainable).map((p) => p.variable), head];
      const lossAndGrads = () => {
        const { value, grads } = tf.variableGrads(
          () =>
            tf.losses.sigmoidCrossEntropy(
              labels,
              tf.matMul(tf.mean(net.apply(images, { training: true }), [1, 2]), head),
            ) as tf.Scalar,
          vars,
        );
        const loss = value.dataSync()[0] as number;
        value.dispose();
        return { loss, grads };
      };
      const flat = (grads: tf.NamedTensorMap) =>
        Float32Array.from(vars.flatMap((v) => Array.from((grads[v.name] as tf.Tensor).dataSync())));
      const worst: number[] = [];
      for (let step = 0; step < 3; step++) {
        const fused = lossAndGrads();
        tf.unregisterKernel(BATCH_NORM_TRAIN, 'wasm');
        let composed: ReturnType<typeof lossAndGrads>;
        try {
          composed = lossAndGrads();
        } finally {
          tf.registerKernel(batchNormTrainConfig);
        }
        expect(Math.abs(fused.loss - composed.loss)).toBeLessThan(1e-5);
        const a = flat(fused.grads);
        const b = flat(composed.grads);
        let diff = 0;
        let norm = 0;
        for (let i = 0; i < a.length; i++) {
          diff += ((a[i] as number) - (b[i] as number)) ** 2;
          norm += (b[i] as number) ** 2;
        }
        worst.push(Math.sqrt(diff / norm));
        tf.tidy(() => {
          for (const v of vars)
            v.assign(tf.sub(v, tf.mul(composed.grads[v.name] as tf.Tensor, 0.002)));
        });
        tf.dispose([...Object.values(fused.grads), ...Object.values(composed.grads)]);
      }
      expect(worst[0], `relative gradient differences per step: ${worst}`).toBeLessThan(1e-4);
      tf.dispose([images, head, labels]);
      net.dispose();
    });
  });
});
