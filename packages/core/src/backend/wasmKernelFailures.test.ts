import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { isGraftError } from '../errors';
import { tinyBatch, tinyTwoTaskModel } from '../train/testing/tinyTwoTaskModel';
import type { TrainableModel } from '../train/trainableModel';
import { Trainer } from '../train/trainer';
import { initBackend } from './initBackend';
import {
  isOutOfMemory,
  noteWasmMessage,
  takeWasmKernelFailure,
  watchWasmKernelFailures,
} from './wasmKernelFailures';

// What tfjs-backend-wasm 4.22 printed when MobileNetV2-1.0 at 224 px, batch 32, filled the
// 4 GiB heap (and then went on with a convolution that never ran).
const OUT_OF_MEMORY =
  'XNN status for xnn_create_convolution2d_nhwc_f32 is not successful. Got status 6. Use -c dbg to see XNN logs.';

describe('WASM kernel failures', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', fallback: false });
  });

  it('records the first failed-operator line until taken, ignores other lines', () => {
    takeWasmKernelFailure();
    noteWasmMessage('some other warning');
    expect(takeWasmKernelFailure()).toBeUndefined();
    noteWasmMessage(OUT_OF_MEMORY);
    noteWasmMessage(
      'XNN status for xnn_setup_convolution2d_nhwc_f32 is not successful. Got status 2.',
    );
    const failure = takeWasmKernelFailure() as string;
    expect(failure).toBe(OUT_OF_MEMORY);
    expect(isOutOfMemory(failure)).toBe(true);
    expect(takeWasmKernelFailure()).toBeUndefined();
  });

  it('the watcher passes every line on to console.warn and is removed again', () => {
    const seen: string[] = [];
    const before = console.warn;
    console.warn = (...a: unknown[]) => void seen.push(a.join(' '));
    try {
      const stop = watchWasmKernelFailures();
      const bound = console.warn.bind(console); // what the Emscripten module keeps
      stop();
      bound(OUT_OF_MEMORY);
      expect(seen).toEqual([OUT_OF_MEMORY]);
      expect(takeWasmKernelFailure()).toBe(OUT_OF_MEMORY);
    } finally {
      console.warn = before;
    }
  });

  it('a step during which a kernel failed stops training, clearly, before its update', async () => {
    const tiny = tinyTwoTaskModel(1);
    let forwards = 0;
    // A model whose third training step "hits" the failure, as the real backend reports it.
    const model: TrainableModel = {
      ...tiny,
      forward: (x, options) => {
        if (options.training && ++forwards === 3) noteWasmMessage(OUT_OF_MEMORY);
        return tiny.forward(x, options);
      },
    };
    const trainer = new Trainer({ model });
    const train = Array.from({ length: 4 }, (_, i) => tinyBatch({ size: 8, seed: i }));
    let afterStep2: number[][] = [];
    const caught = await trainer
      .fit(train, {
        epochs: 1,
        callbacks: [
          {
            onStepEnd: (logs) => {
              if (logs.step === 2) afterStep2 = tiny.params.map((p) => [...p.variable.dataSync()]);
            },
          },
        ],
      })
      .catch((e: unknown) => e);
    expect(isGraftError(caught, 'WASM_KERNEL_FAILED')).toBe(true);
    expect(String((caught as Error).message)).toMatch(
      /WebAssembly heap ran out of memory at epoch 1, step 3/,
    );
    expect(String((caught as { hint?: string }).hint)).toMatch(/smaller batch size/);
    expect(tiny.params.map((p) => [...p.variable.dataSync()])).toEqual(afterStep2);
    expect(trainer.step).toBe(2);
    trainer.dispose();
    tiny.dispose();
    for (const b of train) tf.dispose([b.x, ...Object.values(b.targets), ...Object.values(b.mask)]);
  });

  it('an evaluation during which a kernel failed reports no metrics', async () => {
    const tiny = tinyTwoTaskModel(2);
    let forwards = 0;
    const model: TrainableModel = {
      ...tiny,
      forward: (x, options) => {
        if (++forwards === 2) noteWasmMessage(OUT_OF_MEMORY);
        return tiny.forward(x, options);
      },
    };
    const trainer = new Trainer({ model });
    const data = Array.from({ length: 3 }, (_, i) => tinyBatch({ size: 8, seed: 10 + i }));
    const caught = await trainer.evaluate(data).catch((e: unknown) => e);
    expect(isGraftError(caught, 'WASM_KERNEL_FAILED')).toBe(true);
    expect(String((caught as Error).message)).toMatch(/out of memory at batch 2/);
    trainer.dispose();
    tiny.dispose();
    for (const b of data) tf.dispose([b.x, ...Object.values(b.targets), ...Object.values(b.mask)]);
  });
});
