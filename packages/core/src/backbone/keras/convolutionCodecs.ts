import { Conv2D } from '../../nn/conv2d';
import { DepthwiseConv2D } from '../../nn/depthwiseConv2d';
import type { Padding } from '../../nn/spatial';
import type { JsonObject } from '../json';
import { SeparableConv2D } from '../layers/separableConv2d';
import {
  assertChannelsLast,
  expectLayer,
  exportedActivation,
  imageInput,
  type KerasBuildArgs,
  type KerasLayerCodec,
  readActivation,
  unsupportedConfig,
} from './kerasLayerCodec';

/** The spatial settings every Keras convolution shares. */
function readWindow(args: KerasBuildArgs, className: string) {
  assertChannelsLast(args, className);
  const { config } = args;
  const padding = config.string('padding', 'valid').toLowerCase();
  if (padding !== 'same' && padding !== 'valid') {
    throw unsupportedConfig(args, className, 'padding', padding, 'Use "same" or "valid".');
  }
  return {
    kernelSize: config.intPair('kernel_size'),
    strides: config.intPair('strides', 1),
    padding: padding as Padding,
    dilation: config.intPair('dilation_rate', 1),
    useBias: config.boolean('use_bias', true),
    activation: readActivation(args, className),
  };
}

export const conv2DCodec: KerasLayerCodec = {
  className: 'Conv2D',
  fromKeras(args) {
    const [, , inputChannels] = imageInput(args, 'Conv2D');
    const groups = args.config.number('groups', 1);
    if (groups !== 1) throw unsupportedConfig(args, 'Conv2D', 'groups', groups);
    return new Conv2D({
      name: args.name,
      block: args.block,
      inputChannels,
      filters: args.config.number('filters'),
      ...readWindow(args, 'Conv2D'),
      seed: 0,
    });
  },
  toKeras(layer): JsonObject {
    const c = expectLayer(layer, Conv2D).config;
    return {
      filters: c.filters,
      kernel_size: c.kernelSize,
      strides: c.strides,
      padding: c.padding,
      data_format: 'channels_last',
      dilation_rate: c.dilation,
      activation: exportedActivation(c.activation, layer),
      use_bias: c.useBias,
    };
  },
};

export const depthwiseConv2DCodec: KerasLayerCodec = {
  className: 'DepthwiseConv2D',
  fromKeras(args) {
    const [, , inputChannels] = imageInput(args, 'DepthwiseConv2D');
    return new DepthwiseConv2D({
      name: args.name,
      block: args.block,
      inputChannels,
      depthMultiplier: args.config.number('depth_multiplier', 1),
      ...readWindow(args, 'DepthwiseConv2D'),
      seed: 0,
    });
  },
  toKeras(layer): JsonObject {
    const c = expectLayer(layer, DepthwiseConv2D).config;
    return {
      kernel_size: c.kernelSize,
      strides: c.strides,
      padding: c.padding,
      data_format: 'channels_last',
      dilation_rate: c.dilation,
      depth_multiplier: c.depthMultiplier,
      activation: exportedActivation(c.activation, layer),
      use_bias: c.useBias,
    };
  },
};

export const separableConv2DCodec: KerasLayerCodec = {
  className: 'SeparableConv2D',
  fromKeras(args) {
    const [, , inputChannels] = imageInput(args, 'SeparableConv2D');
    return new SeparableConv2D({
      name: args.name,
      block: args.block,
      inputChannels,
      filters: args.config.number('filters'),
      depthMultiplier: args.config.number('depth_multiplier', 1),
      ...readWindow(args, 'SeparableConv2D'),
      seed: 0,
    });
  },
  toKeras(layer): JsonObject {
    const c = expectLayer(layer, SeparableConv2D).config;
    return {
      filters: c.filters,
      kernel_size: c.kernelSize,
      strides: c.strides,
      padding: c.padding,
      data_format: 'channels_last',
      dilation_rate: c.dilation,
      depth_multiplier: c.depthMultiplier,
      activation: exportedActivation(c.activation, layer),
      use_bias: c.useBias,
    };
  },
};
