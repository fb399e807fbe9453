import { GraftError } from '../errors';
import { JsonReader, type JsonValue } from './json';
import {
  bytesPerQuantizedValue,
  dequantize,
  QUANTIZATION_DTYPES,
  type Quantization,
  type QuantizationDtype,
} from './quantization';

/** One weight of a TF.js weights manifest. */
export interface WeightSpec {
  /** `<layer>/<weight>`, e.g. `Conv1/kernel`. */
  name: string;
  shape: number[];
  /** Dtype of the weight itself; the stored bytes follow `quantization` when present. */
  dtype: 'float32' | 'int32';
  quantization?: Quantization;
  /** tfjs tags optimizer state with `group: 'optimizer'`; graft skips those. */
  group?: string;
}

/** One manifest group: its shard files, concatenated, hold its weights back to back. */
export interface WeightsGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** A weight read from the shards, as float32 values. */
export interface DecodedWeight {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Parses `weightsManifest` (or in-memory `weightSpecs`), saying which entry is wrong. */
export function parseWeightsManifest(value: JsonValue | undefined, where: string): WeightsGroup[] {
  if (!Array.isArray(value)) {
    throw new GraftError('MODEL_MALFORMED', 'weightsManifest must be a list of groups', {
      where: `${where} weightsManifest`,
    });
  }
  return value.map((groupValue, g) => {
    const group = JsonReader.of(groupValue, `${where} weightsManifest[${g}]`);
    const paths = group.array('paths').map((p, i) => {
      if (typeof p !== 'string' || p.length === 0) throw group.bad(`paths[${i}]`, 'a file name', p);
      return p;
    });
    const weights = group
      .array('weights')
      .map((w, i) => parseWeightSpec(w, group.at(`weights[${i}]`)));
    return { paths, weights };
  });
}

export function parseWeightSpec(value: JsonValue | undefined, where: string): WeightSpec {
  const w = JsonReader.of(value, where);
  const name = w.string('name');
  const shape = w.shape('shape');
  if (!shape.every((d): d is number => d !== null && d >= 0))
    throw w.bad('shape', 'sizes >= 0', shape);
  const dtype = w.string('dtype');
  if (dtype !== 'float32' && dtype !== 'int32') {
    throw new GraftError(
      'MODEL_MALFORMED',
      `Weight "${name}" has dtype "${dtype}"; graft reads float32 and int32`,
      {
        where: w.at('dtype'),
      },
    );
  }
  const spec: WeightSpec = { name, shape, dtype };
  if (w.has('group')) spec.group = w.string('group');
  const q = w.optionalObject('quantization');
  if (q) {
    const qDtype = q.string('dtype');
    if (!(QUANTIZATION_DTYPES as readonly string[]).includes(qDtype)) {
      throw new GraftError('MODEL_MALFORMED', `Weight "${name}" is quantized as "${qDtype}"`, {
        where: q.at('dtype'),
        hint: `graft reads ${QUANTIZATION_DTYPES.join(', ')} quantization.`,
      });
    }
    const quantization: Quantization = { dtype: qDtype as QuantizationDtype };
    if (qDtype !== 'float16') {
      quantization.scale = q.number('scale');
      quantization.min = q.number('min');
    }
    spec.quantization = quantization;
  }
  return spec;
}

/** Bytes one weight takes in its shard. */
export function storedBytes(spec: WeightSpec): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  return count * (spec.quantization ? bytesPerQuantizedValue(spec.quantization.dtype) : 4);
}

/**
 * Reads a group's weights from its concatenated shards. The byte count must match the
 * manifest exactly: fewer bytes is a truncated or missing shard (named: the first weight
 * that does not fit), more bytes a manifest that does not describe these shards.
 */
export function decodeWeightsGroup(
  group: WeightsGroup,
  data: Uint8Array,
  where: string,
): DecodedWeight[] {
  const expected = group.weights.reduce((n, w) => n + storedBytes(w), 0);
  const files = group.paths.join(', ');
  if (data.byteLength !== expected) {
    let offset = 0;
    const firstMissing = group.weights.find((w) => {
      offset += storedBytes(w);
      return offset > data.byteLength;
    });
    const short = data.byteLength < expected;
    throw new GraftError(
      'WEIGHTS_MISMATCH',
      short
        ? `The weight files hold ${data.byteLength} bytes but the manifest describes ${expected}; "${firstMissing?.name}" and the weights after it are cut off`
        : `The weight files hold ${data.byteLength} bytes, ${data.byteLength - expected} more than the ${expected} the manifest describes`,
      {
        where: `${where} (${files})`,
        hint: short
          ? 'A shard is truncated or one is missing; copy or download all of them again.'
          : 'The shards do not belong to this model.json; re-export the model.',
      },
    );
  }
  const out: DecodedWeight[] = [];
  let offset = 0;
  for (const spec of group.weights) {
    const bytes = storedBytes(spec);
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const slice = data.subarray(offset, offset + bytes);
    offset += bytes;
    if (spec.group === 'optimizer') continue;
    let values: Float32Array;
    if (spec.quantization) {
      values = dequantize(slice, count, spec.quantization);
    } else if (spec.dtype === 'int32') {
      values = Float32Array.from(new Int32Array(copyOf(slice)));
    } else {
      values = new Float32Array(copyOf(slice));
    }
    out.push({ name: spec.name, shape: spec.shape, values });
  }
  return out;
}

/** An aligned copy: a shard's weights need not start on a 4-byte boundary of its buffer. */
function copyOf(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}
