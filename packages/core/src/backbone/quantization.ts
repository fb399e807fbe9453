/**
 * Weight quantization as the TF.js weights manifest describes it: `uint8` / `uint16` store
 * round((v - min) / scale) and read back q * scale + min; `float16` stores IEEE half floats.
 *
 * @example
 * ```ts
 * const q: QuantizationDtype = 'uint8'; // about 4x smaller weights
 * await saveModel('out/model', { backbone: trunk, quantization: q });
 * ```
 */
export type QuantizationDtype = 'uint8' | 'uint16' | 'float16';

export interface Quantization {
  dtype: QuantizationDtype;
  /** Step between levels (uint8, uint16). */
  scale?: number;
  /** Value of level 0 (uint8, uint16). */
  min?: number;
}

export const QUANTIZATION_DTYPES: readonly QuantizationDtype[] = ['uint8', 'uint16', 'float16'];

export function bytesPerQuantizedValue(dtype: QuantizationDtype): number {
  return dtype === 'uint8' ? 1 : 2;
}

/** Reads `count` quantized values starting at `bytes[0]` as float32. */
export function dequantize(bytes: Uint8Array, count: number, q: Quantization): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (q.dtype === 'float16') {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
    return out;
  }
  const scale = q.scale ?? 1;
  const min = q.min ?? 0;
  if (q.dtype === 'uint8') {
    for (let i = 0; i < count; i++) out[i] = (bytes[i] as number) * scale + min;
  } else {
    for (let i = 0; i < count; i++) out[i] = view.getUint16(2 * i, true) * scale + min;
  }
  return out;
}

/** Quantizes float values; returns the bytes and the manifest entry that reads them back. */
export function quantize(
  values: Float32Array,
  dtype: QuantizationDtype,
): { bytes: Uint8Array; quantization: Quantization } {
  if (dtype === 'float16') {
    const bytes = new Uint8Array(values.length * 2);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => {
      view.setUint16(2 * i, floatToHalf(v), true);
    });
    return { bytes, quantization: { dtype } };
  }
  const levels = dtype === 'uint8' ? 255 : 65535;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (values.length === 0) {
    min = 0;
    max = 0;
  }
  const scale = max > min ? (max - min) / levels : 1;
  const bytes = new Uint8Array(values.length * bytesPerQuantizedValue(dtype));
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    const level = Math.min(levels, Math.max(0, Math.round((v - min) / scale)));
    if (dtype === 'uint8') bytes[i] = level;
    else view.setUint16(2 * i, level, true);
  });
  return { bytes, quantization: { dtype, scale, min } };
}

/** IEEE 754 half (bits) -> number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** number -> IEEE 754 half (bits), rounding to nearest even. */
export function floatToHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half += 1;
  return sign | half;
}
