import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { shareData, sharedClone } from './shareData';

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`shareData (${backend})`, () => {
    beforeAll(async () => {
      await initBackend({ backend, fallback: false });
    });

    it('gives a second tensor on the same data; each lives until its own dispose', () => {
      const before = tf.memory();
      const dataIds = tf.engine().backend.numDataIds();
      const x = tf.tensor([1.5, -2, 3, 4], [2, 2]);
      const y = shareData(x) as tf.Tensor;
      expect(y).toBeDefined();
      expect(y.dataId).toBe(x.dataId);
      expect(y.shape).toEqual([2, 2]);
      expect(tf.memory().numTensors).toBe(before.numTensors + 2);
      x.dispose();
      expect(Array.from(y.dataSync())).toEqual([1.5, -2, 3, 4]);
      y.dispose();
      expect(tf.memory().numTensors).toBe(before.numTensors);
      expect(tf.engine().backend.numDataIds()).toBe(dataIds);
    });

    it('runs no kernel', async () => {
      const x = tf.tensor([1, 2, 3], [3], 'int32');
      const { kernels } = await tf.profile(() => {
        tf.keep(shareData(x) as tf.Tensor).dispose();
      });
      expect(kernels).toEqual([]);
      x.dispose();
    });

    it("keeps a variable's old values after assign, as a snapshot needs", () => {
      const v = tf.variable(tf.tensor([1, 2, 3]));
      const saved = sharedClone(v);
      v.assign(tf.tensor([7, 8, 9]));
      expect(Array.from(saved.dataSync())).toEqual([1, 2, 3]);
      v.assign(saved);
      saved.dispose();
      expect(Array.from(v.dataSync())).toEqual([1, 2, 3]);
      v.dispose();
    });

    it('declines strings; sharedClone then clones as tfjs does', () => {
      const s = tf.tensor(['a', 'b']);
      expect(shareData(s)).toBeUndefined();
      const c = sharedClone(s);
      expect(c.dataSync()).toEqual(s.dataSync());
      tf.dispose([s, c]);
    });
  });
}

describe('shareData across backends', () => {
  it('declines data that lives on another backend than the active one', async () => {
    await initBackend({ backend: 'cpu', fallback: false });
    const onCpu = tf.tensor([1, 2]);
    await initBackend({ backend: 'wasm', fallback: false });
    expect(shareData(onCpu)).toBeUndefined();
    const c = sharedClone(onCpu); // tfjs moves it, as tf.clone always did
    expect(Array.from(c.dataSync())).toEqual([1, 2]);
    tf.dispose([onCpu, c]);
  });
});
