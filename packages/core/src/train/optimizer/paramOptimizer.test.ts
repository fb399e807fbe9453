import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BackendName, initBackend } from '../../backend/initBackend';
import { isGraftError } from '../../errors';
import { createParam, type Param, type ParamKind } from '../../nn/param';
import { seededRandom } from '../../nn/testHelpers';
import type { OptimizerSpec } from './optimizerSpec';
import { ParamOptimizer } from './paramOptimizer';

const SHAPES: [string, ParamKind, number[]][] = [
  ['conv/kernel', 'kernel', [3, 3, 2, 4]],
  ['bn/gamma', 'gamma', [4]],
  ['dense/bias', 'bias', [5]],
];

function makeParams(seed: number): Param[] {
  const random = seededRandom(seed);
  return SHAPES.map(([name, kind, shape]) =>
    createParam({ name, block: 'b', kind }, () =>
      tf.tensor(
        Array.from({ length: tf.util.sizeFromShape(shape) }, () => random() - 0.5),
        shape,
      ),
    ),
  );
}

/** Fixed pseudo-random gradients per step, the same for both optimizers compared. */
function gradients(params: Param[], step: number): tf.Tensor[] {
  const random = seededRandom(100 + step);
  return params.map((p) =>
    tf.tensor(
      Array.from({ length: p.variable.size }, () => 2 * random() - 1),
      p.variable.shape,
    ),
  );
}

async function values(params: Param[]): Promise<number[]> {
  const out: number[] = [];
  for (const p of params) out.push(...(await p.variable.data()));
  return out;
}

function expectClose(a: number[], b: number[], tolerance: number): void {
  expect(a.length).toBe(b.length);
  const worst = Math.max(...a.map((x, i) => Math.abs(x - (b[i] as number))));
  expect(worst).toBeLessThan(tolerance);
}

/** Runs `steps` updates with ours and with a reference tfjs optimizer from the same start. */
async function compare(
  spec: OptimizerSpec,
  reference: () => tf.Optimizer,
  steps = 5,
): Promise<{ ours: number[]; theirs: number[] }> {
  const ours = makeParams(1);
  const theirs = makeParams(1);
  const optimizer = new ParamOptimizer(spec);
  const tfOptimizer = reference();
  for (let step = 0; step < steps; step++) {
    const g = gradients(ours, step);
    optimizer.step(
      ours.map((param, i) => ({ param, grad: g[i] as tf.Tensor, lrScale: 1 })),
      { learningRate: spec.learningRate },
    );
    tfOptimizer.applyGradients(
      Object.fromEntries(theirs.map((p, i) => [p.variable.name, g[i] as tf.Tensor])),
    );
    tf.dispose(g);
  }
  const result = { ours: await values(ours), theirs: await values(theirs) };
  optimizer.dispose();
  tfOptimizer.dispose();
  tf.dispose([...ours, ...theirs].map((p) => p.variable));
  return result;
}

for (const backend of ['wasm', 'cpu'] as BackendName[]) {
  describe(`ParamOptimizer on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend({ backend, fallback: false });
    });

    it('matches tf.train.adam', async () => {
      const { ours, theirs } = await compare({ type: 'adam', learningRate: 0.01 }, () =>
        tf.train.adam(0.01, 0.9, 0.999, 1e-7),
      );
      expectClose(ours, theirs, 1e-6);
    });

    it('matches tf.train.momentum, plain and Nesterov, and tf.train.sgd', async () => {
      for (const nesterov of [false, true]) {
        const { ours, theirs } = await compare(
          { type: 'sgd', learningRate: 0.1, momentum: 0.9, nesterov },
          () => tf.train.momentum(0.1, 0.9, nesterov),
        );
        expectClose(ours, theirs, 1e-6);
      }
      const plain = await compare({ type: 'sgd', learningRate: 0.1 }, () => tf.train.sgd(0.1));
      expectClose(plain.ours, plain.theirs, 1e-6);
    });

    it('applies AdamW decay decoupled, to kernels only, at the scaled rate', async () => {
      const params = makeParams(2);
      const before = await values(params);
      const optimizer = new ParamOptimizer({ type: 'adamw', learningRate: 0.1, weightDecay: 0.5 });
      // Zero gradients: Adam's step is 0/(0+eps) = 0, so only decay moves anything.
      const zeros = params.map((p) => tf.zerosLike(p.variable));
      optimizer.step(
        params.map((param, i) => ({ param, grad: zeros[i] as tf.Tensor, lrScale: 0.5 })),
        { learningRate: 0.1 },
      );
      const after = await values(params);
      const kernelSize = params[0]?.variable.size ?? 0;
      const expected = before.map((v, i) => (i < kernelSize ? v * (1 - 0.1 * 0.5 * 0.5) : v));
      expectClose(after, expected, 1e-7);
      tf.dispose(zeros);
      optimizer.dispose();
      tf.dispose(params.map((p) => p.variable));
    });

    it('adds coupled L2 for adam: the same as adding wd * p to the gradient', async () => {
      const a = makeParams(3);
      const b = makeParams(3);
      const withDecay = new ParamOptimizer({
        type: 'adam',
        learningRate: 0.01,
        weightDecay: 0.1,
        decayKinds: ['kernel', 'gamma', 'bias'],
      });
      const plain = new ParamOptimizer({ type: 'adam', learningRate: 0.01 });
      for (let step = 0; step < 3; step++) {
        const g = gradients(a, step);
        withDecay.step(
          a.map((param, i) => ({ param, grad: g[i] as tf.Tensor, lrScale: 1 })),
          { learningRate: 0.01 },
        );
        const gb = b.map((p, i) => tf.add(g[i] as tf.Tensor, tf.mul(p.variable, 0.1)));
        plain.step(
          b.map((param, i) => ({ param, grad: gb[i] as tf.Tensor, lrScale: 1 })),
          { learningRate: 0.01 },
        );
        tf.dispose([...g, ...gb]);
      }
      expectClose(await values(a), await values(b), 1e-6);
      withDecay.dispose();
      plain.dispose();
      tf.dispose([...a, ...b].map((p) => p.variable));
    });

    it('scales each parameter by its lrScale; lrScale 0 leaves it bit-identical', async () => {
      const params = makeParams(4);
      const before = await values(params);
      const optimizer = new ParamOptimizer({ type: 'sgd', learningRate: 1 });
      const g = params.map((p) => tf.onesLike(p.variable));
      optimizer.step(
        params.map((param, i) => ({
          param,
          grad: g[i] as tf.Tensor,
          lrScale: [0, 0.5, 2][i] ?? 1,
        })),
        { learningRate: 0.1 },
      );
      const after = await values(params);
      const sizes = params.map((p) => p.variable.size);
      const scale = (j: number) =>
        j < (sizes[0] ?? 0) ? 0 : j < (sizes[0] ?? 0) + (sizes[1] ?? 0) ? 0.5 : 2;
      expect(after.slice(0, sizes[0])).toEqual(before.slice(0, sizes[0]));
      expectClose(
        after,
        before.map((v, j) => v - 0.1 * scale(j)),
        1e-7,
      );
      tf.dispose(g);
      optimizer.dispose();
      tf.dispose(params.map((p) => p.variable));
    });

    it('clips the global gradient norm and reports it', async () => {
      const params = makeParams(5);
      const before = await values(params);
      const optimizer = new ParamOptimizer({ type: 'sgd', learningRate: 1 });
      const g = gradients(params, 0);
      const flat = (await Promise.all(g.map((t) => t.data()))).flatMap((d) => Array.from(d));
      const norm = Math.sqrt(flat.reduce((s, v) => s + v * v, 0));
      const reported = optimizer.step(
        params.map((param, i) => ({ param, grad: g[i] as tf.Tensor, lrScale: 1 })),
        { learningRate: 1, clipNorm: 0.5 },
      );
      expect(reported).toBeCloseTo(norm, 4);
      const step = (await values(params)).map((v, i) => (before[i] as number) - v);
      const stepNorm = Math.sqrt(step.reduce((s, v) => s + v * v, 0));
      expect(stepNorm).toBeCloseTo(0.5, 4);
      tf.dispose(g);
      optimizer.dispose();
      tf.dispose(params.map((p) => p.variable));
    });

    it('changes nothing, not even its state, when a gradient is not finite', async () => {
      const params = makeParams(6);
      const optimizer = new ParamOptimizer({ type: 'adam', learningRate: 0.1 });
      const good = gradients(params, 0);
      const entries = (g: tf.Tensor[]) =>
        params.map((param, i) => ({ param, grad: g[i] as tf.Tensor, lrScale: 1 }));
      optimizer.step(entries(good), { learningRate: 0.1 });
      const before = await values(params);
      const bad = good.map((g, i) => (i === 1 ? tf.fill(g.shape, Number.NaN) : g));
      expect(optimizer.step(entries(bad), { learningRate: 0.1 })).toBeNaN();
      expect(await values(params)).toEqual(before);
      expect(optimizer.stepCount).toBe(1);
      // The next good step continues from the state of step 1, as if the bad one never ran.
      const reference = new ParamOptimizer({ type: 'adam', learningRate: 0.1 });
      const copies = makeParams(6);
      reference.step(
        copies.map((param, i) => ({ param, grad: good[i] as tf.Tensor, lrScale: 1 })),
        { learningRate: 0.1 },
      );
      reference.step(
        copies.map((param, i) => ({ param, grad: good[i] as tf.Tensor, lrScale: 1 })),
        { learningRate: 0.1 },
      );
      optimizer.step(entries(good), { learningRate: 0.1 });
      expect(await values(params)).toEqual(await values(copies));
      tf.dispose([...good, ...bad]);
      optimizer.dispose();
      reference.dispose();
      tf.dispose([...params, ...copies].map((p) => p.variable));
    });

    it('issues one kernel call per step, allocates no new state, keeps the tensor count flat', async () => {
      const params = makeParams(7);
      const optimizer = new ParamOptimizer({ type: 'adamw', learningRate: 0.01 });
      const g = gradients(params, 0);
      const step = () =>
        optimizer.step(
          params.map((param, i) => ({ param, grad: g[i] as tf.Tensor, lrScale: 1 })),
          { learningRate: 0.01 },
        );
      step();
      const counts: number[] = [];
      const profile = await tf.profile(() => {
        step();
      });
      for (let i = 0; i < 3; i++) {
        step();
        counts.push(tf.memory().numTensors);
      }
      expect(profile.kernels.map((k) => k.name)).toEqual(['GraftOptimizerStep']);
      // New values per parameter and the norm; Adam's m and v are updated in place.
      expect(profile.kernels[0]?.outputShapes.length).toBe(params.length + 1);
      expect(new Set(counts).size).toBe(1);
      expect(optimizer.stateTensorCount()).toBe(2 * params.length);
      tf.dispose(g);
      optimizer.dispose();
      tf.dispose(params.map((p) => p.variable));
    });
  });
}

describe('ParamOptimizer options', () => {
  it('rejects bad settings with GraftError', () => {
    const bad: OptimizerSpec[] = [
      { type: 'adam', learningRate: 0 },
      { type: 'adam', learningRate: 0.1, beta1: 1 },
      { type: 'sgd', learningRate: 0.1, nesterov: true },
      { type: 'sgd', learningRate: 0.1, weightDecay: -1 },
      { type: 'rmsprop', learningRate: 0.1 } as unknown as OptimizerSpec,
    ];
    for (const spec of bad) {
      let caught: unknown;
      try {
        new ParamOptimizer(spec);
      } catch (e) {
        caught = e;
      }
      expect(isGraftError(caught, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});
