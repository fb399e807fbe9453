import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { batchNormTraining } from './batchNormTraining';
import { batchNormLossInFloat64, relativeError, seededRandom, seededTensor } from './testHelpers';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});
afterEach(async () => {
  await tf.setBackend('cpu');
});

const EPS = 1e-3;
const SHAPE = [3, 4, 5, 6];
const C = 6;

/** The textbook formula, differentiated by tfjs's own autodiff. */
function naive(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, EPS))), gamma), beta);
}

function fixture() {
  const x = tf.add(tf.mul(seededTensor(SHAPE, 1), 3), 0.5);
  const gamma = tf.add(seededTensor([C], 2), 1.5);
  const beta = seededTensor([C], 3);
  // Weights of the scalar loss sum(y * w), so that dy is not constant.
  const w = seededTensor(SHAPE, 4);
  const movingMean = tf.variable(tf.zeros([C]), false);
  const movingVariance = tf.variable(tf.ones([C]), false);
  return { x, gamma, beta, w, movingMean, movingVariance };
}

type Fixture = ReturnType<typeof fixture>;

function disposeFixture(f: Fixture): void {
  tf.dispose([f.x, f.gamma, f.beta, f.w, f.movingMean, f.movingVariance]);
}

function ours(f: Fixture, momentum = 0.9) {
  return (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) =>
    batchNormTraining(x, {
      gamma,
      beta,
      movingMean: f.movingMean,
      movingVariance: f.movingVariance,
      momentum,
      epsilon: EPS,
    });
}

function gradsOf(
  f: Fixture,
  bn: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor,
): Float32Array[] {
  const grads = tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(bn(x, g, b), f.w)),
  );
  const gs = grads([f.x, f.gamma, f.beta]);
  const out = gs.map((g) => g.dataSync() as Float32Array);
  tf.dispose(gs);
  return out;
}

describe('batchNormTraining', () => {
  it('normalises with the batch statistics (matches the textbook formula)', () => {
    const f = fixture();
    const y = ours(f)(f.x, f.gamma, f.beta);
    const expected = naive(f.x, f.gamma, f.beta);
    expect(relativeError(y.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
    tf.dispose([y, expected]);
    disposeFixture(f);
  });

  it('folds the batch statistics into the moving statistics (biased variance)', () => {
    const f = fixture();
    const { mean, variance } = tf.moments(f.x, [0, 1, 2]);
    const y = ours(f, 0.9)(f.x, f.gamma, f.beta);
    const m = mean.dataSync();
    const v = variance.dataSync();
    const mm = f.movingMean.dataSync();
    const mv = f.movingVariance.dataSync();
    for (let c = 0; c < C; c++) {
      expect(mm[c]).toBeCloseTo(0.1 * (m[c] as number), 5);
      expect(mv[c]).toBeCloseTo(0.9 + 0.1 * (v[c] as number), 5);
    }
    tf.dispose([mean, variance, y]);
    disposeFixture(f);
  });

  it('has the gradients of tfjs autodiff on the naive formula', () => {
    const f = fixture();
    const expected = gradsOf(f, naive);
    const got = gradsOf(f, ours(f));
    for (let i = 0; i < 3; i++) {
      expect(relativeError(got[i] as Float32Array, expected[i] as Float32Array)).toBeLessThan(1e-5);
    }
    disposeFixture(f);
  });

  it('has the gradients of central finite differences in float64', () => {
    const f = fixture();
    const x = Float64Array.from(f.x.dataSync());
    const gamma = Float64Array.from(f.gamma.dataSync());
    const beta = Float64Array.from(f.beta.dataSync());
    const w = Float64Array.from(f.w.dataSync());
    const [gx, gGamma, gBeta] = gradsOf(f, ours(f)) as [Float32Array, Float32Array, Float32Array];
    const loss = () => batchNormLossInFloat64(x, gamma, beta, w, { channels: C, epsilon: EPS });
    const h = 1e-5;
    const numeric = (arr: Float64Array, i: number) => {
      const saved = arr[i] as number;
      arr[i] = saved + h;
      const up = loss();
      arr[i] = saved - h;
      const down = loss();
      arr[i] = saved;
      return (up - down) / (2 * h);
    };
    // Every gamma and beta entry, and a seeded sample of x entries.
    const pick = seededRandom(9);
    const xIdx = Array.from({ length: 40 }, () => Math.floor(pick() * x.length));
    const compare = (analytic: Float32Array, arr: Float64Array, idx: number[]) => {
      const a = idx.map((i) => analytic[i] as number);
      const n = idx.map((i) => numeric(arr, i));
      expect(relativeError(a, n)).toBeLessThan(1e-4);
    };
    compare(gx, x, xIdx);
    compare(gGamma, gamma, [...gamma.keys()]);
    compare(gBeta, beta, [...beta.keys()]);
    disposeFixture(f);
  });

  it('runs on wasm without Tile or Transpose, in a handful of kernels', async () => {
    await tf.setBackend('wasm');
    const f = fixture();
    const profile = await tf.profile(() => {
      const gs = tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(ours(f)(x, g, b), f.w)),
      )([f.x, f.gamma, f.beta]);
      tf.dispose(gs);
    });
    const names = profile.kernelNames;
    expect(names).not.toContain('Tile');
    expect(names).not.toContain('FusedBatchNorm');
    // wasm reduces only innermost axes and transposes otherwise; channel sums are matmuls.
    expect(names).not.toContain('Transpose');
    const work = profile.kernels.filter((k) => k.name !== 'Reshape' && k.name !== 'Identity');
    // Forward (moments, normalise, moving-stat update) + backward + the loss.
    console.log(
      `batch norm forward + backward: ${work.length} kernels (${profile.kernels.length} with reshapes and copies)`,
    );
    expect(work.length).toBeLessThan(40);
    disposeFixture(f);
  });

  it('keeps the moving-statistics update off the gradient tape and leaks nothing', () => {
    const f = fixture();
    // Make the moving mean look trainable: if its update were taped, it would get a gradient.
    f.movingMean.trainable = true;
    const gammaVar = tf.variable(f.gamma);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.mul(ours(f)(f.x, gammaVar, f.beta), f.w)),
      [gammaVar, f.movingMean],
    );
    expect(Object.keys(grads)).toEqual([gammaVar.name]);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    // And in a plain (untaped) training-mode call inside tidy.
    tf.tidy(() => {
      ours(f)(f.x, gammaVar, f.beta);
    });
    expect(tf.memory().numTensors).toBe(before);
    gammaVar.dispose();
    disposeFixture(f);
  });

  it('computes the same values and gradients on wasm as on cpu', async () => {
    const f = fixture();
    const onCpu = gradsOf(f, ours(f));
    await tf.setBackend('wasm');
    const onWasm = gradsOf(f, ours(f));
    for (let i = 0; i < 3; i++) {
      expect(relativeError(onWasm[i] as Float32Array, onCpu[i] as Float32Array)).toBeLessThan(1e-5);
    }
    disposeFixture(f);
  });
});
