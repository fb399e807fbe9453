import { GraftError } from '../../errors';
import { Dense } from '../../nn/dense';
import type { JsonObject, JsonValue } from '../json';
import { Dropout } from '../layers/dropout';
import { Rescaling, type ScaleValue } from '../layers/rescaling';
import {
  expectLayer,
  exportedActivation,
  type KerasBuildArgs,
  type KerasLayerCodec,
  readActivation,
  singleInput,
  unsupportedConfig,
} from './kerasLayerCodec';

export const denseCodec: KerasLayerCodec = {
  className: 'Dense',
  fromKeras(args) {
    const shape = singleInput(args, 'Dense');
    if (shape.length !== 1) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `Dense on per-example input [${shape.join(', ')}] is not supported; it needs a vector`,
        {
          where: `layer "${args.name}" (Dense)`,
          hint: 'Pool or Flatten image features before a Dense layer.',
        },
      );
    }
    return new Dense({
      name: args.name,
      block: args.block,
      inputUnits: shape[0] ?? 0,
      units: args.config.number('units'),
      useBias: args.config.boolean('use_bias', true),
      activation: readActivation(args, 'Dense'),
      seed: 0,
    });
  },
  toKeras(layer): JsonObject {
    const c = expectLayer(layer, Dense).config;
    return {
      units: c.units,
      activation: exportedActivation(c.activation, layer),
      use_bias: c.useBias,
    };
  },
};

export const dropoutCodec: KerasLayerCodec = {
  className: 'Dropout',
  fromKeras(args) {
    singleInput(args, 'Dropout');
    const noise = args.config.raw('noise_shape');
    if (noise !== undefined && noise !== null) {
      throw unsupportedConfig(args, 'Dropout', 'noise_shape', noise);
    }
    const seed = args.config.optionalNumber('seed');
    return new Dropout({
      name: args.name,
      rate: args.config.number('rate'),
      ...(seed === undefined ? {} : { seed }),
    });
  },
  toKeras(layer): JsonObject {
    const { rate, seed } = expectLayer(layer, Dropout).config;
    return { rate, noise_shape: null, seed };
  },
};

function readScale(args: KerasBuildArgs, key: string, fallback: number): ScaleValue {
  const raw: JsonValue | undefined = args.config.raw(key);
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw === 'number') return raw;
  if (Array.isArray(raw) && raw.every((v) => typeof v === 'number')) return raw as number[];
  throw args.config.bad(key, 'a number or a list of numbers (one per channel)', raw);
}

export const rescalingCodec: KerasLayerCodec = {
  className: 'Rescaling',
  fromKeras(args) {
    const shape = singleInput(args, 'Rescaling');
    const scale = readScale(args, 'scale', 1);
    const offset = readScale(args, 'offset', 0);
    const channels = shape[shape.length - 1];
    for (const [key, v] of [
      ['scale', scale],
      ['offset', offset],
    ] as const) {
      if (typeof v !== 'number' && v.length !== 1 && v.length !== channels) {
        throw unsupportedConfig(
          args,
          'Rescaling',
          key,
          v,
          `Give one value or one per channel (${channels}).`,
        );
      }
    }
    return new Rescaling({ name: args.name, scale, offset });
  },
  toKeras(layer): JsonObject {
    const { scale, offset } = expectLayer(layer, Rescaling).config;
    const json = (v: ScaleValue): JsonValue => (typeof v === 'number' ? v : [...v]);
    return { scale: json(scale), offset: json(offset) };
  },
};
