import { type SpatialPadding, ZeroPadding2D } from '../../nn/zeroPadding2d';
import type { JsonObject, JsonValue } from '../json';
import { Flatten, Reshape } from '../layers/reshaping';
import {
  assertChannelsLast,
  expectLayer,
  imageInput,
  type KerasBuildArgs,
  type KerasLayerCodec,
  singleInput,
  unsupportedConfig,
} from './kerasLayerCodec';

const isCount = (v: JsonValue | undefined): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Keras's padding forms: `1`, `[1, 2]` (symmetric per axis), `[[0, 1], [0, 1]]`. */
function readSpatialPadding(args: KerasBuildArgs): SpatialPadding {
  const raw = args.config.raw('padding') ?? 1;
  if (isCount(raw))
    return [
      [raw, raw],
      [raw, raw],
    ];
  if (Array.isArray(raw) && raw.length === 2) {
    const [h, w] = raw;
    if (isCount(h) && isCount(w))
      return [
        [h, h],
        [w, w],
      ];
    const asPair = (v: JsonValue | undefined): [number, number] | undefined =>
      Array.isArray(v) && v.length === 2 && isCount(v[0]) && isCount(v[1])
        ? [v[0], v[1]]
        : undefined;
    const top = asPair(h);
    const left = asPair(w);
    if (top && left) return [top, left];
  }
  throw args.config.bad('padding', 'an integer, [h, w] or [[top, bottom], [left, right]]', raw);
}

export const zeroPadding2DCodec: KerasLayerCodec = {
  className: 'ZeroPadding2D',
  fromKeras(args) {
    imageInput(args, 'ZeroPadding2D');
    assertChannelsLast(args, 'ZeroPadding2D');
    return new ZeroPadding2D({ name: args.name, padding: readSpatialPadding(args) });
  },
  toKeras(layer): JsonObject {
    const [[top, bottom], [left, right]] = expectLayer(layer, ZeroPadding2D).config.padding;
    return {
      padding: [
        [top, bottom],
        [left, right],
      ],
      data_format: 'channels_last',
    };
  },
};

export const reshapeCodec: KerasLayerCodec = {
  className: 'Reshape',
  fromKeras(args) {
    singleInput(args, 'Reshape');
    const target = args.config.shape('target_shape');
    if (target.some((d) => d === null)) {
      throw unsupportedConfig(args, 'Reshape', 'target_shape', target);
    }
    const layer = new Reshape({ name: args.name, targetShape: target as number[] });
    layer.outputShape(args.inputShapes[0] ?? []);
    return layer;
  },
  toKeras(layer): JsonObject {
    return { target_shape: [...expectLayer(layer, Reshape).config.targetShape] };
  },
};

export const flattenCodec: KerasLayerCodec = {
  className: 'Flatten',
  fromKeras(args) {
    singleInput(args, 'Flatten');
    assertChannelsLast(args, 'Flatten');
    return new Flatten({ name: args.name });
  },
  toKeras: () => ({ data_format: 'channels_last' }),
};
