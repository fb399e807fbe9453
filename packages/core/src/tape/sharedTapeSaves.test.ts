import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { batchNormTraining } from '../nn/batchNormTraining';
import { seededTensor } from '../nn/testHelpers';
import { withSharedTapeSaves } from './sharedTapeSaves';

/** A small trunk with the ops a training step saves tensors for: conv, BN (+ReLU6), depthwise, add. */
function network() {
  const v = (shape: number[], seed: number, name: string) =>
    tf.variable(seededTensor(shape, seed), true, name);
  const w = {
    conv: v([3, 3, 3, 4], 1, 'tape_conv'),
    gamma: v([4], 2, 'tape_gamma'),
    beta: v([4], 3, 'tape_beta'),
    dw: v([3, 3, 4, 1], 4, 'tape_dw'),
    head: v([4, 2], 5, 'tape_head'),
  };
  const moving = {
    mean: tf.variable(tf.zeros([4]), false, 'tape_mean'),
    variance: tf.variable(tf.ones([4]), false, 'tape_var'),
  };
  const loss = (x: tf.Tensor4D) => {
    const c = tf.conv2d(x, w.conv as tf.Tensor4D, 2, 'same');
    const b = batchNormTraining(c, {
      gamma: w.gamma,
      beta: w.beta,
      movingMean: moving.mean,
      movingVariance: moving.variance,
      momentum: 0.9,
      epsilon: 1e-3,
      relu: { maxValue: 6 },
    }) as tf.Tensor4D;
    const d = tf.depthwiseConv2d(b, w.dw as tf.Tensor4D, 1, 'valid');
    const s = tf.add(d, tf.slice(b, [0, 1, 1, 0], d.shape));
    const pooled = tf.mean(s, [1, 2]) as tf.Tensor2D;
    return tf.mean(tf.sigmoid(tf.matMul(pooled, w.head as tf.Tensor2D))) as tf.Scalar;
  };
  const dispose = () => tf.dispose([...Object.values(w), moving.mean, moving.variance]);
  return { loss, variables: Object.values(w), dispose };
}

/** Loss and every gradient, as host arrays. */
function lossAndGrads(x: tf.Tensor4D, shared: boolean): Float32Array[] {
  const net = network();
  const run = () => tf.variableGrads(() => net.loss(x), net.variables);
  const { value, grads } = shared ? withSharedTapeSaves(run) : run();
  const out = [value, ...net.variables.map((v) => grads[v.name] as tf.Tensor)].map(
    (t) => t.dataSync() as Float32Array,
  );
  tf.dispose([value, ...Object.values(grads)]);
  net.dispose();
  return out;
}

const identityCalls = async (f: () => void) =>
  (await tf.profile(f)).kernels.filter((k) => k.name === 'Identity').length;

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`withSharedTapeSaves (${backend})`, () => {
    beforeAll(async () => {
      await initBackend({ backend, fallback: false });
    });

    // Odd sizes, stride 2, batch 1 and 3.
    for (const shape of [
      [1, 7, 7, 3],
      [3, 9, 6, 3],
    ]) {
      it(`gives the same loss and gradients, bit for bit: input ${shape}`, () => {
        const x = seededTensor(shape, 11) as tf.Tensor4D;
        const a = lossAndGrads(x, true);
        const b = lossAndGrads(x, false);
        expect(a.length).toBe(6);
        a.forEach((values, i) => {
          expect(Array.from(values), `output ${i}`).toEqual(Array.from(b[i] as Float32Array));
        });
        x.dispose();
      });
    }

    it('runs no Identity kernel for the saves (tfjs does, without it)', async () => {
      const x = seededTensor([2, 7, 7, 3], 12) as tf.Tensor4D;
      const net = network();
      const step = () => {
        const { value, grads } = tf.variableGrads(() => net.loss(x), net.variables);
        tf.dispose([value, ...Object.values(grads)]);
      };
      expect(await identityCalls(step)).toBeGreaterThan(3);
      expect(await identityCalls(() => withSharedTapeSaves(step))).toBe(0);
      tf.dispose([x]);
      net.dispose();
    });

    it('leaks no tensor or backend buffer over repeated steps', () => {
      const x = seededTensor([2, 7, 7, 3], 13) as tf.Tensor4D;
      const net = network();
      const step = () =>
        withSharedTapeSaves(() => {
          const { value, grads } = tf.variableGrads(() => net.loss(x), net.variables);
          tf.dispose([value, ...Object.values(grads)]);
        });
      step();
      const tensors = tf.memory().numTensors;
      const dataIds = tf.engine().backend.numDataIds();
      for (let i = 0; i < 3; i++) step();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(tf.engine().backend.numDataIds()).toBe(dataIds);
      x.dispose();
      net.dispose();
    });

    it('keeps second-order gradients right (saves in a nested gradient are recorded)', () => {
      // f(x) = sum(x^3): f' = 3x^2, and the gradient of sum(f') is 6x.
      const x = tf.tensor([0.5, -1.25, 2]);
      const cube = (t: tf.Tensor) => tf.sum(tf.mul(t, tf.mul(t, t)));
      const second = () => tf.grad((t: tf.Tensor) => tf.sum(tf.grad(cube)(t)))(x);
      const shared = withSharedTapeSaves(second);
      const plain = second();
      expect(Array.from(shared.dataSync())).toEqual(Array.from(plain.dataSync()));
      expect(Array.from(shared.dataSync())).toEqual([3, -7.5, 12]);
      tf.dispose([x, shared, plain]);
    });

    it("puts the engine's own clone back on return, on throw, and leaves nesting to the outer call", () => {
      const engine = tf.engine();
      expect(withSharedTapeSaves(() => Object.hasOwn(engine, 'clone'))).toBe(true);
      expect(Object.hasOwn(engine, 'clone')).toBe(false);
      expect(() =>
        withSharedTapeSaves(() => {
          throw new Error('forward failed');
        }),
      ).toThrow('forward failed');
      expect(Object.hasOwn(engine, 'clone')).toBe(false);
      withSharedTapeSaves(() => {
        withSharedTapeSaves(() => undefined);
        expect(Object.hasOwn(engine, 'clone')).toBe(true);
      });
      expect(Object.hasOwn(engine, 'clone')).toBe(false);
    });

    it('composes with a wrapper installed on the engine: nested saves go through it, and it is put back', () => {
      const engine = tf.engine() as unknown as { clone(x: tf.Tensor): tf.Tensor };
      let wrapped = 0;
      const tfjsClone = engine.clone;
      const wrapper = function (this: unknown, x: tf.Tensor) {
        wrapped++;
        return tfjsClone.call(this, x);
      };
      engine.clone = wrapper;
      try {
        const x = tf.tensor([0.5, 2]);
        const cube = (t: tf.Tensor) => tf.sum(tf.mul(t, tf.mul(t, t)));
        // First order: shared saves, the wrapper is not called. Second order: it is.
        const first = withSharedTapeSaves(() => tf.grad(cube)(x));
        expect(wrapped).toBe(0);
        const second = withSharedTapeSaves(() =>
          tf.grad((t: tf.Tensor) => tf.sum(tf.grad(cube)(t)))(x),
        );
        expect(wrapped).toBeGreaterThan(0);
        expect(Array.from(first.dataSync())).toEqual([0.75, 12]);
        expect(Array.from(second.dataSync())).toEqual([3, 12]);
        expect(engine.clone).toBe(wrapper);
        tf.dispose([x, first, second]);
      } finally {
        delete (engine as Partial<typeof engine>).clone;
      }
    });
  });
}
