import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import type { Param } from '../nn/param';

/**
 * graft's compact weight format for the backbone it ships inside @graft/core: one binary blob
 * and a JSON manifest keyed by parameter name. Large tensors are stored as uint8 with a
 * min/scale per output channel (per-channel affine quantisation keeps conv weights within
 * half a step of their channel's range); small ones (biases, BN) stay float32.
 *
 * @example
 * ```ts
 * const { manifest } = encodeParams(trunk.params);
 * for (const e of manifest.entries) console.log(e.name, e.shape, e.encoding);
 * ```
 */
export interface ParamBlobEntry {
  name: string;
  shape: number[];
  encoding: 'float32' | 'uint8';
  /** Byte offset of the values in the blob. */
  offset: number;
  /** uint8 only: byte offset of `channels` float32 mins then `channels` float32 scales. */
  rangeOffset?: number;
  /** uint8 only: number of quantisation channels (the axis is the last one of size > 1). */
  channels?: number;
}

/**
 * The JSON half of graft's compact weight format: one entry per parameter and the blob's length.
 *
 * @example
 * ```ts
 * const { manifest, data }: { manifest: ParamBlobManifest; data: Uint8Array } = encodeParams(trunk.params);
 * ```
 */
export interface ParamBlobManifest {
  format: 'graft-params';
  version: 1;
  entries: ParamBlobEntry[];
  byteLength: number;
}

/**
 * Options of {@link encodeParams}: from how many values a tensor is quantised to uint8.
 *
 * @example
 * ```ts
 * const blob = encodeParams(trunk.params, { quantizeFrom: 4096 } satisfies EncodeOptions);
 * ```
 */
export interface EncodeOptions {
  /** Tensors with at least this many values are quantised to uint8. Default 1024. */
  quantizeFrom?: number;
}

function channelAxis(shape: readonly number[]): number {
  for (let a = shape.length - 1; a >= 0; a--) if ((shape[a] as number) > 1) return a;
  return Math.max(0, shape.length - 1);
}

/**
 * Serialises the parameters' current values. Reads every variable once (dataSync).
 *
 * @example
 * ```ts
 * const { manifest, data } = encodeParams(trunk.params); // large tensors as per-channel uint8
 * await writeFile('weights.bin', data);
 * ```
 */
export function encodeParams(
  params: readonly Param[],
  options: EncodeOptions = {},
): { manifest: ParamBlobManifest; data: Uint8Array } {
  const quantizeFrom = options.quantizeFrom ?? 1024;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const push = (bytes: Uint8Array) => {
    chunks.push(bytes);
    const at = offset;
    offset += bytes.byteLength;
    // Keep float32 data 4-byte aligned so decoding can view it in place.
    const pad = (4 - (offset % 4)) % 4;
    if (pad) {
      chunks.push(new Uint8Array(pad));
      offset += pad;
    }
    return at;
  };
  const entries: ParamBlobEntry[] = [];
  for (const p of params) {
    const values = p.variable.dataSync() as Float32Array;
    const shape = [...p.variable.shape];
    if (values.length < quantizeFrom) {
      entries.push({
        name: p.name,
        shape,
        encoding: 'float32',
        offset: push(new Uint8Array(values.slice().buffer)),
      });
      continue;
    }
    const axis = channelAxis(shape);
    const channels = shape[axis] as number;
    const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const mins = new Float32Array(channels).fill(Number.POSITIVE_INFINITY);
    const maxs = new Float32Array(channels).fill(Number.NEGATIVE_INFINITY);
    const channelOf = (i: number) => Math.floor(i / inner) % channels;
    values.forEach((v, i) => {
      const c = channelOf(i);
      if (v < (mins[c] as number)) mins[c] = v;
      if (v > (maxs[c] as number)) maxs[c] = v;
    });
    const scales = mins.map((m, c) => Math.max(((maxs[c] as number) - m) / 255, 1e-12));
    const q = new Uint8Array(values.length);
    values.forEach((v, i) => {
      const c = channelOf(i);
      q[i] = Math.round((v - (mins[c] as number)) / (scales[c] as number));
    });
    const ranges = new Float32Array(2 * channels);
    ranges.set(mins, 0);
    ranges.set(scales, channels);
    const rangeOffset = push(new Uint8Array(ranges.buffer));
    entries.push({
      name: p.name,
      shape,
      encoding: 'uint8',
      offset: push(q),
      rangeOffset,
      channels,
    });
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.byteLength;
  }
  return { manifest: { format: 'graft-params', version: 1, entries, byteLength: offset }, data };
}

/**
 * Assigns the blob's values to `params` by name. Every parameter must be in the blob with the
 * same shape; a mismatch is an error naming the parameter, never a silent partial load.
 *
 * @example
 * ```ts
 * const { manifest, data } = encodeParams(trained.params);
 * decodeParamsInto(fresh.params, manifest, data, 'shipped backbone'); // same names and shapes
 * ```
 */
export function decodeParamsInto(
  params: readonly Param[],
  manifest: ParamBlobManifest,
  data: Uint8Array,
  where: string,
): void {
  if (
    manifest.format !== 'graft-params' ||
    manifest.version !== 1 ||
    data.byteLength !== manifest.byteLength
  ) {
    throw new GraftError('WEIGHTS_MISMATCH', 'Not a graft weight blob, or a truncated one', {
      where,
    });
  }
  const byName = new Map(manifest.entries.map((e) => [e.name, e]));
  const view = (byteOffset: number, length: number) =>
    new Float32Array(data.buffer, data.byteOffset + byteOffset, length);
  for (const p of params) {
    const e = byName.get(p.name);
    if (!e) {
      throw new GraftError('WEIGHTS_MISMATCH', `No weights for parameter "${p.name}"`, { where });
    }
    if (e.shape.join(',') !== p.variable.shape.join(',')) {
      throw new GraftError(
        'WEIGHTS_MISMATCH',
        `Weights for "${p.name}" have shape [${e.shape}], the model expects [${p.variable.shape}]`,
        { where },
      );
    }
    const size = p.variable.size;
    let values: Float32Array;
    if (e.encoding === 'float32') {
      values = view(e.offset, size).slice();
    } else {
      const channels = e.channels as number;
      const ranges = view(e.rangeOffset as number, 2 * channels);
      const axis = channelAxis(e.shape);
      const inner = e.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const q = data.subarray(e.offset, e.offset + size);
      values = new Float32Array(size);
      for (let i = 0; i < size; i++) {
        const c = Math.floor(i / inner) % channels;
        values[i] = (q[i] as number) * (ranges[channels + c] as number) + (ranges[c] as number);
      }
    }
    tf.tidy(() => p.variable.assign(tf.tensor(values, p.variable.shape, 'float32')));
  }
}
