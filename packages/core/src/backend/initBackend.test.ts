import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GraftError } from '../errors';
import { initBackend } from './initBackend';

describe('initBackend', () => {
  it('selects WASM with SIMD in Node and registers gradients', async () => {
    const info = await initBackend();
    expect(info).toEqual({ name: 'wasm', simd: true, threads: 1 });
    expect(tf.getBackend()).toBe('wasm');
    // Gradients work: d/dx sum(x^2) = 2x.
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, -2, 3]));
    expect(Array.from(await g.data())).toEqual([2, -4, 6]);
  });

  it('rejects an unknown backend name with a GraftError that lists the choices', async () => {
    const err = await initBackend({ backend: 'webgl' as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraftError);
    expect((err as GraftError).code).toBe('BACKEND_UNKNOWN');
    expect((err as GraftError).message).toMatch(/Unknown backend "webgl".*wasm, cpu/);
  });

  it('reports wasm files that cannot be found, naming the folder', async () => {
    const err = await initBackend({ wasmPaths: '/nonexistent/wasm/' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraftError);
    expect((err as GraftError).code).toBe('WASM_FILES_NOT_FOUND');
    expect((err as GraftError).message).toContain('/nonexistent/wasm/');
  });

  it('selects cpu on request, silently', async () => {
    const warnings: string[] = [];
    const info = await initBackend({ backend: 'cpu', onWarning: (m) => warnings.push(m) });
    expect(info).toEqual({ name: 'cpu', simd: false, threads: 1 });
    expect(warnings).toEqual([]);
  });

  it('falls back to cpu loudly when WebAssembly is unavailable', async () => {
    const saved = globalThis.WebAssembly;
    // biome-ignore lint/suspicious/noExplicitAny: simulating a platform without WebAssembly
    (globalThis as any).WebAssembly = undefined;
    const warnings: string[] = [];
    try {
      const info = await initBackend({ onWarning: (m) => warnings.push(m) });
      expect(info.name).toBe('cpu');
      expect(info.fallbackReason).toMatch(/WebAssembly is not available/);
      expect(warnings.join('\n')).toMatch(/FALLING BACK TO THE cpu BACKEND/);
      const strict = await initBackend({ fallback: false }).catch((e: unknown) => e);
      expect((strict as GraftError).code).toBe('BACKEND_INIT_FAILED');
    } finally {
      globalThis.WebAssembly = saved;
    }
  });
});
