import type { AnyLayer } from '../../nn/module';
import {
  AveragePooling2D,
  GlobalAveragePooling2D,
  MaxPooling2D,
  type Pooling2DConfig,
} from '../../nn/pooling';
import type { Padding } from '../../nn/spatial';
import type { JsonObject } from '../json';
import { GlobalAveragePooling2DKeepdims, GlobalMaxPooling2D } from '../layers/globalPooling2d';
import {
  assertChannelsLast,
  expectLayer,
  imageInput,
  type KerasBuildArgs,
  type KerasLayerCodec,
  type KerasLayerEntry,
  unsupportedConfig,
} from './kerasLayerCodec';

function readPooling(args: KerasBuildArgs, className: string) {
  imageInput(args, className);
  assertChannelsLast(args, className);
  const { config } = args;
  const poolSize = config.intPair('pool_size', 2);
  const padding = config.string('padding', 'valid').toLowerCase();
  if (padding !== 'same' && padding !== 'valid') {
    throw unsupportedConfig(args, className, 'padding', padding);
  }
  return {
    name: args.name,
    poolSize,
    // Keras: strides None means strides = pool_size.
    strides: config.has('strides') ? config.intPair('strides') : poolSize,
    padding: padding as Padding,
  };
}

function poolingConfig(c: Pooling2DConfig): JsonObject {
  return {
    pool_size: c.poolSize,
    strides: c.strides,
    padding: c.padding,
    data_format: 'channels_last',
  };
}

export const maxPooling2DCodec: KerasLayerCodec = {
  className: 'MaxPooling2D',
  fromKeras: (args) => new MaxPooling2D(readPooling(args, 'MaxPooling2D')),
  toKeras: (layer) => poolingConfig(expectLayer(layer, MaxPooling2D).config),
};

export const averagePooling2DCodec: KerasLayerCodec = {
  className: 'AveragePooling2D',
  fromKeras: (args) => new AveragePooling2D(readPooling(args, 'AveragePooling2D')),
  toKeras: (layer) => poolingConfig(expectLayer(layer, AveragePooling2D).config),
};

function keepdims(layer: AnyLayer): boolean {
  const config = (layer as { config?: { keepdims?: boolean } }).config;
  return config?.keepdims === true;
}

/**
 * tfjs-layers 4.22's global pooling has no keepdims: export it as the pooling followed by a
 * Reshape to [1, 1, channels], the last layer named as the original.
 */
function keepdimsLayers(
  layer: AnyLayer,
  className: string,
  inputs: readonly string[],
): KerasLayerEntry[] | undefined {
  if (!keepdims(layer)) return undefined;
  const pooled = `${layer.name}_pooled`;
  return [
    { className, name: pooled, config: { data_format: 'channels_last' }, inputs },
    {
      className: 'Reshape',
      name: layer.name,
      config: { target_shape: [1, 1, -1] },
      inputs: [pooled],
    },
  ];
}

export const globalAveragePooling2DCodec: KerasLayerCodec = {
  className: 'GlobalAveragePooling2D',
  fromKeras(args) {
    imageInput(args, 'GlobalAveragePooling2D');
    assertChannelsLast(args, 'GlobalAveragePooling2D');
    const keep = args.config.boolean('keepdims', false);
    return keep
      ? new GlobalAveragePooling2DKeepdims({ name: args.name, keepdims: true })
      : new GlobalAveragePooling2D({ name: args.name });
  },
  toKeras: () => ({ data_format: 'channels_last' }),
  toKerasLayers: (layer, inputs) => keepdimsLayers(layer, 'GlobalAveragePooling2D', inputs),
};

export const globalMaxPooling2DCodec: KerasLayerCodec = {
  className: 'GlobalMaxPooling2D',
  fromKeras(args) {
    imageInput(args, 'GlobalMaxPooling2D');
    assertChannelsLast(args, 'GlobalMaxPooling2D');
    return new GlobalMaxPooling2D({
      name: args.name,
      keepdims: args.config.boolean('keepdims', false),
    });
  },
  toKeras: () => ({ data_format: 'channels_last' }),
  toKerasLayers: (layer, inputs) => keepdimsLayers(layer, 'GlobalMaxPooling2D', inputs),
};
