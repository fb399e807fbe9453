import type * as tf from '@tensorflow/tfjs-core';
import { fuseBatchNormRelu } from './batchNormActivation';
import { Conv2D } from './conv2d';
import { DepthwiseConv2D } from './depthwiseConv2d';
import type { ApplyOptions, Layer } from './module';
import { ZeroPadding2D } from './zeroPadding2d';

/** Two consecutive layers run as one step; the result is the second layer's output. */
export type FusedPair = (x: tf.Tensor, options: ApplyOptions) => tf.Tensor;

/**
 * `layer` then `next` as one step, where graft has one for the pair, else undefined:
 * - a BatchNorm and the ReLU after it ({@link fuseBatchNormRelu}): one kernel each way;
 * - a ZeroPadding2D and a 'valid' DepthwiseConv2D or Conv2D after it (Keras's MobileNetV2
 *   has one before every strided depthwise conv; MobileNet, ResNet and EfficientNet stems pad
 *   before a 'valid' Conv2D): one convolution with explicit padding, without the padded copy
 *   of the input and without the Slice that cuts its gradient back to the input's shape.
 *
 * Same values and gradients as the two layers one after the other. `layer`'s own output is
 * never materialised, so callers fuse only where nobody reads it.
 *
 * @example
 * ```ts
 * const step = fuseLayerPair(pad, depthwise);
 * const y = step ? step(x, options) : depthwise.apply(pad.apply(x, options), options);
 * ```
 */
export function fuseLayerPair(layer: Layer, next: Layer | undefined): FusedPair | undefined {
  return fuseBatchNormRelu(layer, next) ?? fusePaddedConvolution(layer, next);
}

function fusePaddedConvolution(layer: Layer, next: Layer | undefined): FusedPair | undefined {
  if (!(layer instanceof ZeroPadding2D)) return undefined;
  if (!(next instanceof DepthwiseConv2D || next instanceof Conv2D) || !next.foldsPadding()) {
    return undefined;
  }
  const padding = layer.config.padding;
  return (x, options) => next.applyPadded(x, padding, options);
}
