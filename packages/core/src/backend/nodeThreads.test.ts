import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from './initBackend';
import { chooseNodeThreads, NODE_MAX_THREADS, startNodeThreads } from './nodeThreads';

describe('chooseNodeThreads', () => {
  it('takes the request, else the default, and caps both', () => {
    expect(chooseNodeThreads(3, 2)).toEqual({ threads: 3 });
    expect(chooseNodeThreads(undefined, 2)).toEqual({ threads: 2 });
    const capped = chooseNodeThreads(NODE_MAX_THREADS + 4, 2);
    expect(capped.threads).toBe(NODE_MAX_THREADS);
    expect(capped.warning).toMatch(/capped to 8/);
  });
});

describe('startNodeThreads', () => {
  it('warns why and starts nothing when the threaded .wasm file is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'graft-wasm-'));
    try {
      writeFileSync(join(dir, 'tfjs-backend-wasm-simd.wasm'), '');
      const warnings: string[] = [];
      const threads = await startNodeThreads({
        threads: 2,
        wasmDir: `${dir}/`,
        warn: (m) => warnings.push(m),
      });
      expect(threads).toBe(1);
      expect(warnings).toEqual([
        expect.stringMatching(/1 thread instead of 2: .*threaded-simd\.wasm is missing/),
      ]);
      expect(() => tfwasm.getThreadsCount()).toThrow(/not initialized/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// One process starts the backend once; this file's process starts it with 2 threads.
describe('initBackend({ threads: 2 }) in Node', () => {
  it('runs the threaded SIMD build with 2 threads, and gets the same numbers as cpu', async () => {
    const warnings: string[] = [];
    const info = await initBackend({ threads: 2, onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
    expect(info).toEqual({ name: 'wasm', simd: true, threads: 2 });
    expect(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')).toBe(true);

    // Large enough that XNNPACK splits the work across both threads; the gradients go
    // through graft's training kernels (conv and depthwise backprop).
    const x = tf.randomNormal([4, 24, 24, 16], 0, 1, 'float32', 1);
    const w = tf.randomNormal([3, 3, 16, 32], 0, 0.2, 'float32', 2);
    const dw = tf.randomNormal([3, 3, 32, 1], 0, 0.2, 'float32', 3);
    const m = tf.randomNormal([32, 64], 0, 0.1, 'float32', 4);
    const f = (xx: tf.Tensor4D, ww: tf.Tensor4D, dd: tf.Tensor4D) => {
      const h = tf.relu(tf.conv2d(xx, ww, 2, 'same')); // [4, 12, 12, 32]
      const d = tf.depthwiseConv2d(h, dd, 1, 'same');
      return tf.sum(tf.square(tf.matMul(tf.reshape(d, [4 * 12 * 12, 32]), m)));
    };
    const run = () => {
      const g = tf.grads((a, b, c) => f(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D));
      return g([x, w, dw]).map((t) => t.dataSync());
    };
    const onWasm = run();
    await tf.setBackend('cpu');
    const onCpu = run();
    await tf.setBackend('wasm');
    for (let i = 0; i < onCpu.length; i++) {
      const a = onWasm[i] as Float32Array;
      const b = onCpu[i] as Float32Array;
      const scale = Math.max(...b.map(Math.abs));
      const err = Math.max(...a.map((v, j) => Math.abs(v - (b[j] as number))));
      expect(err / scale).toBeLessThan(1e-4);
    }
  });

  it('keeps the thread count of the first start and says so', async () => {
    const warnings: string[] = [];
    const info = await initBackend({ threads: 3, onWarning: (m) => warnings.push(m) });
    expect(info.threads).toBe(2);
    expect(warnings).toEqual([expect.stringMatching(/threads: 3 ignored.*already runs with 2/)]);
  });
});
