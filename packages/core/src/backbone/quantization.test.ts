import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import type { JsonValue } from './json';
import { dequantize, floatToHalf, halfToFloat, quantize } from './quantization';
import { decodeWeightsGroup, parseWeightsManifest } from './weightsManifest';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('quantization', () => {
  it('float16: exact for representable values, round to nearest even, subnormals, infinities', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [1e6, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -24, 0x0001],
      [2 ** -14, 0x0400],
      [1 + 2 ** -11, 0x3c00], // halfway between 1 and the next half: to even
      [1 + 3 * 2 ** -11, 0x3c02],
      [0.1, 0x2e66],
    ];
    for (const [value, bits] of cases)
      expect({ value, bits: floatToHalf(value) }).toEqual({ value, bits });
    expect(halfToFloat(0x2e66)).toBeCloseTo(0.0999755859375, 12);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(Number.isNaN(halfToFloat(0x7e00))).toBe(true);
    // Every half value survives half -> float -> half.
    for (let h = 0; h < 0x10000; h += 7) {
      if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) continue;
      expect(floatToHalf(halfToFloat(h))).toBe(h);
    }
  });

  it('uint8 and uint16 read back within half a step, as tfjs reads them', async () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 3 - 0.5);
    for (const dtype of ['uint8', 'uint16'] as const) {
      const { bytes, quantization } = quantize(values, dtype);
      const back = dequantize(bytes, values.length, quantization);
      const step = quantization.scale as number;
      expect(step).toBeCloseTo(6 / (dtype === 'uint8' ? 255 : 65535), 3);
      expect(
        Math.max(...back.map((v, i) => Math.abs(v - (values[i] as number)))),
      ).toBeLessThanOrEqual(step / 2 + 1e-6);
      // tfjs-core's own decoder agrees.
      const decoded = tf.io.decodeWeights(bytes.buffer as ArrayBuffer, [
        { name: 'w', shape: [1000], dtype: 'float32', quantization },
      ]);
      expect(Array.from(decoded.w?.dataSync() ?? [])).toEqual(Array.from(back));
      tf.dispose(Object.values(decoded));
    }
    // A constant tensor has no range: every value reads back exactly.
    const flat = quantize(new Float32Array([0.25, 0.25]), 'uint8');
    expect(Array.from(dequantize(flat.bytes, 2, flat.quantization))).toEqual([0.25, 0.25]);
  });
});

describe('weights manifest', () => {
  const manifest = (weights: object[]) =>
    parseWeightsManifest(
      [{ paths: ['a.bin', 'b.bin'], weights }] as unknown as JsonValue,
      'model.json',
    );

  it('reads float32, int32 and quantized weights back to back, and skips optimizer state', () => {
    const [group] = manifest([
      { name: 'l/kernel', shape: [2], dtype: 'float32' },
      { name: 'l/steps', shape: [1], dtype: 'int32' },
      { name: 'opt/m', shape: [1], dtype: 'float32', group: 'optimizer' },
      {
        name: 'l/bias',
        shape: [3],
        dtype: 'float32',
        quantization: { dtype: 'uint8', scale: 0.5, min: -1 },
      },
      { name: 'l/gamma', shape: [1], dtype: 'float32', quantization: { dtype: 'float16' } },
    ]);
    const bytes = new Uint8Array(8 + 4 + 4 + 3 + 2);
    const view = new DataView(bytes.buffer);
    view.setFloat32(0, 1.5, true);
    view.setFloat32(4, -2, true);
    view.setInt32(8, 7, true);
    view.setFloat32(12, 99, true);
    bytes.set([0, 2, 4], 16);
    view.setUint16(19, 0x3c00, true);
    const decoded = decodeWeightsGroup(group as never, bytes, 'model.json');
    expect(decoded.map((w) => [w.name, Array.from(w.values)])).toEqual([
      ['l/kernel', [1.5, -2]],
      ['l/steps', [7]],
      ['l/bias', [-1, 0, 1]],
      ['l/gamma', [1]],
    ]);
  });

  it('says which entry is malformed', () => {
    const message = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return `${(e as { code: string }).code}: ${(e as Error).message}`;
      }
    };
    expect(message(() => manifest([{ name: 'w', shape: [1], dtype: 'string' }]))).toMatch(
      /MODEL_MALFORMED.*"string"/,
    );
    expect(
      message(() =>
        manifest([{ name: 'w', shape: [1], dtype: 'float32', quantization: { dtype: 'int4' } }]),
      ),
    ).toMatch(/int4/);
    expect(
      message(() =>
        manifest([{ name: 'w', shape: [1], dtype: 'float32', quantization: { dtype: 'uint8' } }]),
      ),
    ).toMatch(/weightsManifest\[0\]\.weights\[0\]\.quantization\.scale/);
    expect(message(() => parseWeightsManifest({}, 'model.json'))).toMatch(/list of groups/);
  });
});
