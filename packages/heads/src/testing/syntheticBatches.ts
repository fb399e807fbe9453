import type { Batch } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';

/** mulberry32, so fixtures are generated, never downloaded. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface QuadrantBatchOptions {
  size: number;
  batch: number;
  seed: number;
  /** Share of each task's labels blanked. Default 0. */
  missing?: number;
}

/**
 * Test-only images with three tasks read off the picture: `quad` (multi-label: which of the
 * four quadrants are bright), `brightest` (classification: which of three colour channels is
 * strongest overall) and `amount` (regression: number of bright quadrants / 4). Blanked
 * labels hold NaN targets, which the masks must hide.
 */
export function quadrantBatch(options: QuadrantBatchOptions): Batch {
  const { size, batch, seed } = options;
  const random = seededRandom(seed);
  const missing = options.missing ?? 0;
  const pixels = new Float32Array(batch * size * size * 3);
  const quad: number[] = [];
  const quadMask: number[] = [];
  const brightest: number[] = [];
  const brightestMask: number[] = [];
  const amount: number[] = [];
  const amountMask: number[] = [];
  const half = size / 2;
  for (let n = 0; n < batch; n++) {
    const on: number[] = [0, 1, 2, 3].map(() => (random() < 0.5 ? 1 : 0));
    const channel = Math.floor(random() * 3);
    for (let h = 0; h < size; h++) {
      for (let w = 0; w < size; w++) {
        const q = (h < half ? 0 : 2) + (w < half ? 0 : 1);
        for (let c = 0; c < 3; c++) {
          const base = 0.2 * random() + (on[q] ? 0.5 : 0) + (c === channel ? 0.3 : 0);
          pixels[((n * size + h) * size + w) * 3 + c] = base;
        }
      }
    }
    for (const v of on) {
      const blank = random() < missing;
      quad.push(blank ? Number.NaN : v);
      quadMask.push(blank ? 0 : 1);
    }
    const blankClass = random() < missing;
    brightest.push(blankClass ? Number.NaN : channel);
    brightestMask.push(blankClass ? 0 : 1);
    const blankAmount = random() < missing;
    amount.push(blankAmount ? Number.NaN : on.reduce((a, b) => a + b, 0) / 4);
    amountMask.push(blankAmount ? 0 : 1);
  }
  return {
    x: tf.tensor4d(pixels, [batch, size, size, 3]),
    targets: {
      quad: tf.tensor2d(quad, [batch, 4]),
      brightest: tf.tensor1d(brightest),
      amount: tf.tensor2d(amount, [batch, 1]),
    },
    mask: {
      quad: tf.tensor2d(quadMask, [batch, 4]),
      brightest: tf.tensor1d(brightestMask),
      amount: tf.tensor2d(amountMask, [batch, 1]),
    },
  };
}

export function disposeBatches(batches: readonly Batch[]): void {
  for (const b of batches) tf.dispose([b.x, ...Object.values(b.targets), ...Object.values(b.mask)]);
}
