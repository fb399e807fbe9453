import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';

describe('Identity on wasm (shares data, no copy)', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', fallback: false });
  });

  it('clones without copying, and each tensor lives until its own dispose', () => {
    const before = tf.memory();
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const y = tf.clone(x);
    // One buffer for both (the stock kernel made a second one).
    expect(y.dataId).toBe(x.dataId);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    expect(y.shape).toEqual([2, 2]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });

  it("keeps a snapshot's values when the variable is assigned new ones", () => {
    const v = tf.variable(tf.tensor([1, 2, 3]));
    const snapshot = tf.clone(v);
    v.assign(tf.tensor([7, 8, 9]));
    expect(Array.from(snapshot.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    v.assign(snapshot);
    snapshot.dispose();
    expect(Array.from(v.dataSync())).toEqual([1, 2, 3]);
    v.dispose();
  });

  it('gives the same gradients as the cpu backend through saved activations', async () => {
    const grads = () => {
      const x = tf.tensor4d(
        Array.from({ length: 2 * 5 * 5 * 3 }, (_, i) => Math.sin(i)),
        [2, 5, 5, 3],
      );
      const w = tf.tensor4d(
        Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i)),
        [3, 3, 3, 4],
      );
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.relu(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))));
      const [gx, gw] = tf.grads(f)([x, w]) as [tf.Tensor, tf.Tensor];
      return [Array.from(gx.dataSync()), Array.from(gw.dataSync())];
    };
    const onWasm = tf.tidy(grads);
    await tf.setBackend('cpu');
    const onCpu = tf.tidy(grads);
    await tf.setBackend('wasm');
    onWasm.forEach((g, i) => {
      const want = onCpu[i] as number[];
      g.forEach((v, j) => {
        expect(v).toBeCloseTo(want[j] as number, 2);
      });
    });
  });
});
