import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';

// A fresh copy of the module per test, so "not loaded yet" is observable.
async function freshModule(): Promise<typeof import('./nativeKernels')> {
  vi.resetModules();
  return import('./nativeKernels');
}

describe('loadNativeKernels / nativeKernels', () => {
  it('throws a GraftError naming the kernel when used before loading', async () => {
    const m = await freshModule();
    expect(m.nativeKernelsLoaded()).toBe(false);
    let err: unknown;
    try {
      m.nativeKernels('SomeKernel');
    } catch (e) {
      err = e;
    }
    // The fresh module graph has its own GraftError class, so check the shape, not instanceof.
    expect(err).toMatchObject({ name: 'GraftError', code: 'KERNELS_NOT_LOADED' });
    expect((err as Error).message).toMatch(
      /not loaded \(SomeKernel\)\. Call `await initBackend\(\)`/,
    );
  });

  it('loads once: concurrent and repeated calls share one instance', async () => {
    const m = await freshModule();
    await Promise.all([m.loadNativeKernels(), m.loadNativeKernels()]);
    const first = m.nativeKernels('test');
    await m.loadNativeKernels();
    expect(m.nativeKernels('test')).toBe(first);
  });

  it('reports a missing WebAssembly as a plain Error, so initBackend falls back to cpu', async () => {
    const m = await freshModule();
    const saved = globalThis.WebAssembly;
    // biome-ignore lint/suspicious/noExplicitAny: simulating a platform without WebAssembly
    (globalThis as any).WebAssembly = undefined;
    try {
      const err = await m.loadNativeKernels().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).toBe('Error');
      expect((err as Error).message).toBe('WebAssembly is not available');
    } finally {
      globalThis.WebAssembly = saved;
    }
    await m.loadNativeKernels(); // and it can still load afterwards
    expect(m.nativeKernelsLoaded()).toBe(true);
  });

  it('lays scratch buffers out aligned and apart, reusing memory and growing only when needed', async () => {
    const m = await freshModule();
    await m.loadNativeKernels();
    const k = m.nativeKernels('test');
    const [a, b, c] = k.scratch([3, 1000, 5], 'test') as [number, number, number];
    expect(a % 64).toBe(0);
    expect(b % 64).toBe(0);
    expect(b - a).toBeGreaterThanOrEqual(3 * 4 + 16); // room for a 4-float tail read
    expect(c - b).toBeGreaterThanOrEqual(1000 * 4 + 16);
    expect(k.scratch([3, 1000, 5], 'test')).toEqual([a, b, c]);
    const before = k.memoryBytes;
    const [big] = k.scratch([before / 4], 'test') as [number];
    const grown = k.memoryBytes;
    expect(grown).toBeGreaterThanOrEqual(big + before);
    expect(k.f32.length).toBe(grown / 4); // the view follows the grown memory
    k.scratch([1000], 'test');
    k.scratch([before / 4], 'test');
    expect(k.memoryBytes).toBe(grown);
  });

  it('is loaded by initBackend, and a kernel called twice does not grow its own memory', async () => {
    const { initBackend } = await import('../backend/initBackend');
    const m = await import('./nativeKernels');
    await initBackend();
    m.setNativeMemoryMode('own'); // the mode with a memory of the module's own
    const x = tf.randomUniform([2, 12, 12, 8], -1, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomUniform([3, 3, 8, 1], -1, 1, 'float32', 2) as tf.Tensor4D;
    const step = () =>
      tf.tidy(() =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')),
        )([x, w]),
      );
    tf.dispose(step());
    const bytes = m.nativeKernels('test').memoryBytes;
    tf.dispose(step());
    expect(m.nativeKernels('test').memoryBytes).toBe(bytes);
    m.setNativeMemoryMode('auto');
    tf.dispose([x, w]);
  });
});
