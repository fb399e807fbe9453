import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { initializerLimit, initialKernel, kernelFans } from './initializers';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('kernel initialisers', () => {
  it('computes fans the way Keras does (receptive field x trailing two dims)', () => {
    expect(kernelFans([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 288 });
    expect(kernelFans([3, 3, 48, 1])).toEqual({ fanIn: 432, fanOut: 9 });
    expect(kernelFans([64, 10])).toEqual({ fanIn: 64, fanOut: 10 });
    expect(initializerLimit('glorotUniform', [64, 10])).toBeCloseTo(Math.sqrt(6 / 74), 12);
    expect(initializerLimit('heUniform', [3, 3, 16, 32])).toBeCloseTo(Math.sqrt(6 / 144), 12);
  });

  it('draws within the limit, centred, and the same seed gives the same values', () => {
    const shape = [3, 3, 16, 32];
    const a = initialKernel('glorotUniform', shape, 7, 'conv/kernel');
    const b = initialKernel('glorotUniform', shape, 7, 'conv/kernel');
    const limit = initializerLimit('glorotUniform', shape);
    const va = Array.from(a.dataSync());
    expect(va).toEqual(Array.from(b.dataSync()));
    expect(Math.max(...va.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...va.map(Math.abs))).toBeGreaterThan(0.9 * limit);
    expect(Math.abs(va.reduce((s, v) => s + v, 0) / va.length)).toBeLessThan(0.05 * limit);
    tf.dispose([a, b]);
  });

  it('gives a different stream per seed and per parameter name', () => {
    const base = initialKernel('heUniform', [8], 1, 'a/kernel').dataSync();
    const otherSeed = initialKernel('heUniform', [8], 2, 'a/kernel').dataSync();
    const otherName = initialKernel('heUniform', [8], 1, 'b/kernel').dataSync();
    expect(Array.from(otherSeed)).not.toEqual(Array.from(base));
    expect(Array.from(otherName)).not.toEqual(Array.from(base));
  });

  it('gives the same values on wasm as on cpu (drawn in JS)', async () => {
    const onCpu = initialKernel('glorotUniform', [4, 5], 3, 'k').dataSync();
    await tf.setBackend('wasm');
    try {
      const onWasm = initialKernel('glorotUniform', [4, 5], 3, 'k').dataSync();
      expect(Array.from(onWasm)).toEqual(Array.from(onCpu));
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
