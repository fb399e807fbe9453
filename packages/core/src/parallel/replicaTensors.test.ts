import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { setVariable } from '../kernels/heapViews';
import { ReducedGradients } from './replicaTensors';

describe.each(['wasm', 'cpu'] as const)('replica tensors (%s)', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
    expect(tf.getBackend()).toBe(backend);
  });

  it('refills one gradient tensor per name, and frees them all on dispose', () => {
    const before = tf.memory().numTensors;
    const grads = new ReducedGradients();
    const a = grads.tensor('w', [2, 2], Float32Array.of(1, 2, 3, 4));
    const b = grads.tensor('b', [3], Float32Array.of(5, 6, 7));
    const a2 = grads.tensor('w', [2, 2], Float32Array.of(8, 9, 10, 11));
    expect(Array.from(a2.dataSync())).toEqual([8, 9, 10, 11]);
    expect(Array.from(b.dataSync())).toEqual([5, 6, 7]);
    // On wasm the same tensor, written in place; on cpu a new one (the old one freed).
    expect(a2 === a).toBe(backend === 'wasm');
    expect(tf.memory().numTensors).toBe(before + 2);
    // Another shape under the same name gets a tensor of that shape.
    const reshaped = grads.tensor('w', [4], Float32Array.of(1, 1, 2, 2));
    expect(reshaped.shape).toEqual([4]);
    expect(tf.memory().numTensors).toBe(before + 2);
    grads.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('never writes into memory another tensor shares', () => {
    const grads = new ReducedGradients();
    const a = grads.tensor('w', [3], Float32Array.of(1, 2, 3));
    const shared = tf.clone(a); // graft's Identity on wasm shares the data
    const a2 = grads.tensor('w', [3], Float32Array.of(4, 5, 6));
    expect(Array.from(shared.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(a2.dataSync())).toEqual([4, 5, 6]);
    grads.dispose();
    expect(Array.from(shared.dataSync())).toEqual([1, 2, 3]);
    shared.dispose();

    const v = tf.variable(tf.tensor([1, 2, 3]));
    const copy = tf.clone(v);
    setVariable(v, Float32Array.of(7, 8, 9));
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    expect(Array.from(copy.dataSync())).toEqual([1, 2, 3]);
    tf.dispose([v, copy]);
  });

  it('sets a variable in place where it owns its memory, with no tensor left behind', () => {
    // (The starting tensor freed: a new variable shares its data.)
    const v = tf.tidy(() => tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2])));
    const dataId = v.dataId;
    const before = tf.memory().numTensors;
    setVariable(v, Float32Array.of(5, 6, 7, 8));
    expect(v.arraySync()).toEqual([
      [5, 6],
      [7, 8],
    ]);
    expect(v.dataId === dataId).toBe(backend === 'wasm');
    expect(tf.memory().numTensors).toBe(before);
    v.dispose();
  });
});
