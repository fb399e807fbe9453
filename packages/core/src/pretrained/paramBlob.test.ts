import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { isGraftError } from '../errors';
import { mobileNetV2 } from '../models/mobileNetV2';
import { decodeParamsInto, encodeParams } from './paramBlob';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('param blob', () => {
  it('round-trips: float32 exactly, uint8 within half a step of each channel range', () => {
    const a = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 1 });
    const b = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 2 });
    const { manifest, data } = encodeParams(a.params);
    decodeParamsInto(b.params, manifest, data, 'test');
    for (const [i, p] of a.params.entries()) {
      const want = p.variable.dataSync() as Float32Array;
      const got = b.params[i]!.variable.dataSync() as Float32Array;
      const entry = manifest.entries[i]!;
      if (entry.encoding === 'float32') {
        expect(Array.from(got)).toEqual(Array.from(want));
      } else {
        let lo = Number.POSITIVE_INFINITY;
        let hi = Number.NEGATIVE_INFINITY;
        for (const v of want) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
        const maxErr = want.reduce((m, v, j) => Math.max(m, Math.abs(v - (got[j] as number))), 0);
        // Per-channel steps are never wider than the whole tensor's step.
        expect(maxErr).toBeLessThanOrEqual(((hi - lo) / 255) * 0.5 + 1e-7);
      }
    }
    expect(manifest.entries.some((e) => e.encoding === 'uint8')).toBe(true);
    expect(data.byteLength).toBeLessThan(a.params.reduce((s, p) => s + p.variable.size, 0) * 1.6);
    a.dispose();
    b.dispose();
  });

  it('refuses a blob that does not fit the model, naming the parameter', () => {
    const a = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 1 });
    const wide = mobileNetV2({ alpha: 0.5, inputShape: [32, 32, 3], seed: 1 });
    const { manifest, data } = encodeParams(a.params);
    try {
      decodeParamsInto(wide.params, manifest, data, 'blob.bin');
      expect.unreachable();
    } catch (e) {
      expect(isGraftError(e, 'WEIGHTS_MISMATCH')).toBe(true);
      expect((e as Error).message).toMatch(
        /Weights for "block_1_project\/kernel" have shape \[1,1,48,8\], the model expects \[1,1,48,16\] \(blob\.bin\)/,
      );
    }
    expect(() => decodeParamsInto(a.params, manifest, data.subarray(1), 'cut.bin')).toThrow(
      /truncated/,
    );
    // Decoding leaves no tensors behind: only the variables hold data.
    const before = tf.memory().numTensors;
    decodeParamsInto(a.params, manifest, data, 'again');
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
    wide.dispose();
  });
});
