import { BatchNorm } from '../../nn/batchNorm';
import type { JsonObject } from '../json';
import { PartialBatchNorm } from '../layers/partialBatchNorm';
import { type KerasLayerCodec, singleInput, unsupportedConfig } from './kerasLayerCodec';

export const batchNormalizationCodec: KerasLayerCodec = {
  className: 'BatchNormalization',
  fromKeras(args) {
    const shape = singleInput(args, 'BatchNormalization');
    const { config } = args;
    // Keras counts the batch axis: on [h, w, c] examples the channel axis is 3 (or -1).
    const raw = config.raw('axis');
    const axis = Array.isArray(raw) && raw.length === 1 ? raw[0] : (raw ?? -1);
    if (axis !== -1 && axis !== shape.length) {
      throw unsupportedConfig(
        args,
        'BatchNormalization',
        'axis',
        raw,
        'Only the last (channel) axis is supported.',
      );
    }
    const common = {
      name: args.name,
      block: args.block,
      channels: shape[shape.length - 1] ?? 0,
      momentum: config.number('momentum', 0.99),
      epsilon: config.number('epsilon', 1e-3),
    };
    const center = config.boolean('center', true);
    const scale = config.boolean('scale', true);
    return center && scale
      ? new BatchNorm(common)
      : new PartialBatchNorm({ ...common, center, scale });
  },
  toKeras(layer): JsonObject {
    if (layer instanceof PartialBatchNorm) {
      const { momentum, epsilon } = layer.config;
      return {
        axis: -1,
        momentum,
        epsilon,
        center: layer.beta !== undefined,
        scale: layer.gamma !== undefined,
      };
    }
    const { momentum, epsilon } = (layer as BatchNorm).config;
    return { axis: -1, momentum, epsilon, center: true, scale: true };
  },
};
