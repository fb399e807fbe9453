import { Activation } from '../../nn/activation';
import { ReLU } from '../../nn/relu';
import type { JsonObject } from '../json';
import {
  expectLayer,
  exportedActivation,
  type KerasLayerCodec,
  type KerasLayerEntry,
  readActivation,
  singleInput,
  unsupportedConfig,
} from './kerasLayerCodec';

export const reluCodec: KerasLayerCodec = {
  className: 'ReLU',
  fromKeras(args) {
    singleInput(args, 'ReLU');
    const { config } = args;
    for (const key of ['negative_slope', 'threshold']) {
      const value = config.number(key, 0);
      if (value !== 0)
        throw unsupportedConfig(args, 'ReLU', key, value, 'Only max_value is supported.');
    }
    const maxValue = config.optionalNumber('max_value');
    return new ReLU({ name: args.name, ...(maxValue === undefined ? {} : { maxValue }) });
  },
  toKeras(layer): JsonObject {
    const { maxValue } = expectLayer(layer, ReLU).config;
    return { max_value: maxValue ?? null };
  },
};

export const activationCodec: KerasLayerCodec = {
  className: 'Activation',
  fromKeras(args) {
    singleInput(args, 'Activation');
    return new Activation({ name: args.name, activation: readActivation(args, 'Activation') });
  },
  toKeras(layer): JsonObject {
    return {
      activation: exportedActivation(expectLayer(layer, Activation).config.activation, layer),
    };
  },
  toKerasLayers(layer, inputs) {
    const { activation } = expectLayer(layer, Activation).config;
    if (activation !== 'hard_swish' && activation !== 'hard_silu') return undefined;
    return hardSwishLayers(layer.name, inputs);
  },
};

/**
 * tfjs-layers 4.22 has no hard_swish, so the exporter writes x * relu6(x + 3) / 6 as three
 * layers it has: Rescaling (x / 6 + 0.5), ReLU(max_value=1) (the gate), Multiply.
 */
export function hardSwishLayers(name: string, inputs: readonly string[]): KerasLayerEntry[] {
  const scaled = `${name}_hard_swish_scaled`;
  const gate = `${name}_hard_swish_gate`;
  return [
    { className: 'Rescaling', name: scaled, config: { scale: 1 / 6, offset: 0.5 }, inputs },
    { className: 'ReLU', name: gate, config: { max_value: 1 }, inputs: [scaled] },
    { className: 'Multiply', name, config: {}, inputs: [...inputs, gate] },
  ];
}
