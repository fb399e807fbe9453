import type * as tf from '@tensorflow/tfjs-core';
import { Activation } from './activation';
import { BatchNorm } from './batchNorm';
import type { ApplyOptions, Layer } from './module';
import { ReLU } from './relu';

/**
 * `layer` followed by `next` as one step, when `layer` is a BatchNorm and `next` a ReLU it
 * can fuse (ReLU with or without a max value, or an Activation 'relu' / 'relu6'): in training
 * mode on wasm that is one kernel call forward and one backward for both, instead of a
 * separate ReLU with its own saved output and mask ops. Otherwise undefined.
 *
 * The result is the ReLU's output, with the same values and gradients as the two layers one
 * after the other; the batch norm's own output is never materialised, so callers fuse only
 * where nobody reads it.
 *
 * @example
 * ```ts
 * const step = fuseBatchNormRelu(bn, relu6);
 * const y = step ? step(x, { training: true }) : relu6.apply(bn.apply(x, options), options);
 * ```
 */
export function fuseBatchNormRelu(
  layer: Layer,
  next: Layer | undefined,
): ((x: tf.Tensor, options: ApplyOptions) => tf.Tensor) | undefined {
  if (!(layer instanceof BatchNorm) || next === undefined) return undefined;
  const relu = reluOf(next);
  if (!relu) return undefined;
  return (x, options) => layer.apply(x, options, relu);
}

function reluOf(layer: Layer): { maxValue?: number } | undefined {
  if (layer instanceof ReLU) {
    const { maxValue } = layer.config;
    return maxValue === undefined ? {} : { maxValue };
  }
  if (layer instanceof Activation) {
    if (layer.config.activation === 'relu') return {};
    if (layer.config.activation === 'relu6') return { maxValue: 6 };
  }
  return undefined;
}
