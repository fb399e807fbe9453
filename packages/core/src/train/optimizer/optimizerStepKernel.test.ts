import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../backend/initBackend';
import { setNativeMemoryMode, zeroCopyNativeKernels } from '../../native/nativeKernels';
import {
  inputName,
  OPTIMIZER_STEP_KERNEL,
  type OptimizerStepAttrs,
  registerOptimizerStepKernel,
  stateSlots,
} from './optimizerStepKernel';

/**
 * GraftOptimizerStep on wasm: the native loops (native/optimizer_step.c, zero-copy mode) against
 * the JavaScript loops (own-memory mode runs those, as tfjs's threaded build does).
 *
 * Both compute each update in float64 with the same operations and round once to float32, so
 * with the same clip factor they agree bit for bit. The one difference is the order in which
 * the gradient norm's sum of squares is added up (8 interleaved partial sums in C, one running
 * sum in JS): the norms differ by a few float64 ulps (relative ~1e-16 x terms, checked below
 * at 1e-12), and when clipping is active the clip factor with them; a factor that differs in
 * the last float64 bits can move a float32 result by at most one float32 rounding step, so
 * clipped cases are compared to within one float32 ulp (relative 2^-23).
 */

beforeAll(async () => {
  await initBackend();
  registerOptimizerStepKernel();
});
afterAll(() => setNativeMemoryMode('auto'));

const SIZES = [1, 3, 5, 17, 1000];

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Case {
  name: string;
  attrs: Partial<OptimizerStepAttrs> & Pick<OptimizerStepAttrs, 'rule'>;
}

const CASES: Case[] = [
  { name: 'adam', attrs: { rule: 'adam' } },
  { name: 'adam, clip, l2, decoupled', attrs: { rule: 'adam', clipNorm: 0.5 } },
  { name: 'sgd', attrs: { rule: 'sgd' } },
  { name: 'sgd, momentum', attrs: { rule: 'sgd', momentum: 0.9 } },
  {
    name: 'sgd, nesterov, clip, l2',
    attrs: { rule: 'sgd', momentum: 0.8, nesterov: true, clipNorm: 1 },
  },
  { name: 'sgd, clip, decoupled', attrs: { rule: 'sgd', clipNorm: 0.25 } },
];

function fullAttrs(c: Case, withDecay: boolean): OptimizerStepAttrs {
  const count = SIZES.length;
  return {
    count,
    learningRates: SIZES.map((_, i) => 0.01 * (i + 1)),
    l2: SIZES.map((_, i) => (withDecay && i % 2 === 0 ? 1e-3 * (i + 1) : 0)),
    decoupled: SIZES.map((_, i) => (withDecay && i % 2 === 1 ? 1e-2 : 0)),
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
    correction1: 1 - 0.9 ** 3,
    correction2: 1 - 0.999 ** 3,
    momentum: 0,
    nesterov: false,
    clipNorm: 0,
    ...c.attrs,
  };
}

/** Random params, grads (badAt: a NaN / Infinity there) and state (v > 0 for Adam). */
function makeInputs(a: OptimizerStepAttrs, seed: number, bad?: number): tf.NamedTensorMap {
  const r = random(seed);
  const inputs: tf.NamedTensorMap = {};
  const slots = stateSlots(a.rule, a.momentum);
  SIZES.forEach((n, i) => {
    const vals = (scale: number, positive = false) =>
      Float32Array.from({ length: n }, () => (positive ? r() : r() * 2 - 1) * scale);
    inputs[inputName.param(i)] = tf.tensor1d(vals(1));
    const g = vals(0.3);
    if (bad !== undefined && i === 3) g[5] = bad;
    inputs[inputName.grad(i)] = tf.tensor1d(g);
    for (let s = 0; s < slots; s++) {
      const positive = a.rule === 'adam' && s === 1;
      inputs[inputName.state(s, i)] = tf.tensor1d(vals(positive ? 0.01 : 0.1, positive));
    }
  });
  return inputs;
}

/**
 * One call on copies of `inputs` (the kernel updates the state in place): the new parameters,
 * the state after the call in the same order (slot 0 of every parameter, then slot 1), and
 * the norm last.
 */
function step(inputs: tf.NamedTensorMap, a: OptimizerStepAttrs): Float32Array[] {
  const copies: tf.NamedTensorMap = {};
  for (const [name, t] of Object.entries(inputs)) copies[name] = tf.tensor(t.dataSync(), t.shape);
  const outs = tf
    .engine()
    .runKernel(OPTIMIZER_STEP_KERNEL, copies, a as unknown as tf.NamedAttrMap) as tf.Tensor[];
  expect(outs.length).toBe(a.count + 1);
  const read = (t: tf.Tensor) => Float32Array.from(t.dataSync());
  const state = Array.from({ length: stateSlots(a.rule, a.momentum) }, (_, s) =>
    SIZES.map((_, i) => read(copies[inputName.state(s, i)] as tf.Tensor)),
  ).flat();
  const data = [...outs.slice(0, -1).map(read), ...state, read(outs.at(-1) as tf.Tensor)];
  tf.dispose([...outs, ...Object.values(copies)]);
  return data;
}

/** Largest |a - b| in float32 ulps of b. */
function maxUlps(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x === y) continue;
    const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(y), 2 ** -126))) - 23);
    worst = Math.max(worst, Math.abs(x - y) / ulp);
  }
  return worst;
}

describe('GraftOptimizerStep on wasm: native (C SIMD) vs JavaScript loops', () => {
  it('runs natively in zero-copy mode and in JavaScript in own-memory mode', () => {
    setNativeMemoryMode('auto');
    expect(zeroCopyNativeKernels(tf.backend())).toBeDefined();
    setNativeMemoryMode('own');
    expect(zeroCopyNativeKernels(tf.backend())).toBeUndefined();
    setNativeMemoryMode('auto');
  });

  for (const c of CASES) {
    for (const withDecay of [false, true]) {
      it(`${c.name}${withDecay ? ' (l2 and decoupled decay)' : ''}: same results`, () => {
        const a = fullAttrs(c, withDecay);
        const inputs = makeInputs(a, 17 + CASES.indexOf(c));
        const before = tf.memory().numTensors;
        setNativeMemoryMode('own');
        const js = step(inputs, a);
        setNativeMemoryMode('auto');
        const native = step(inputs, a);
        expect(native.length).toBe(js.length);
        const normJs = js[js.length - 1]?.[0] as number;
        const normNative = native[native.length - 1]?.[0] as number;
        expect(Math.abs(normNative - normJs) / normJs).toBeLessThan(1e-6); // float32 output
        const clipped = a.clipNorm > 0 && normJs > a.clipNorm;
        expect(clipped).toBe(a.clipNorm > 0); // the clip cases do clip
        js.slice(0, -1).forEach((expected, j) => {
          const got = native[j] as Float32Array;
          if (clipped) expect(maxUlps(got, expected), `output ${j}`).toBeLessThanOrEqual(1);
          else expect(got, `output ${j}`).toEqual(expected);
        });
        // A second native call gives the same bits (nothing left over between calls).
        expect(step(inputs, a)).toEqual(native);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose(Object.values(inputs));
      });
    }
  }

  it('adds the gradient norm up in float64 (1e-12 relative to a float64 reference)', () => {
    setNativeMemoryMode('auto');
    const a = fullAttrs(CASES[0] as Case, false);
    const inputs = makeInputs(a, 5);
    let sum = 0;
    SIZES.forEach((_, i) => {
      for (const g of (inputs[inputName.grad(i)] as tf.Tensor).dataSync()) sum += g * g;
    });
    const native = step(inputs, a);
    const normNative = native[native.length - 1]?.[0] as number;
    expect(normNative).toBe(Math.fround(Math.sqrt(sum)));
    tf.dispose(Object.values(inputs));
  });

  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
    for (const c of [CASES[1], CASES[4]] as Case[]) {
      it(`${c.name}: a ${bad} gradient changes nothing`, () => {
        setNativeMemoryMode('auto');
        const a = fullAttrs(c, true);
        const inputs = makeInputs(a, 3, bad);
        const out = step(inputs, a);
        const slots = stateSlots(a.rule, a.momentum);
        SIZES.forEach((_, i) => {
          const same = (got: Float32Array | undefined, name: string) =>
            expect(got).toEqual(Float32Array.from((inputs[name] as tf.Tensor).dataSync()));
          same(out[i], inputName.param(i));
          for (let s = 0; s < slots; s++)
            same(out[(1 + s) * SIZES.length + i], inputName.state(s, i));
        });
        expect(Number.isFinite(out[out.length - 1]?.[0])).toBe(false);
        tf.dispose(Object.values(inputs));
      });
    }
  }
});
