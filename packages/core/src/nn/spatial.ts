import type * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import type { SpatialPadding } from './zeroPadding2d';

/**
 * Keras's convolution and pooling padding: `same` keeps the size (at stride 1), `valid` uses
 * only full windows.
 *
 * @example
 * ```ts
 * const padding: Padding = 'same';
 * const conv = new Conv2D({ name: 'c', inputChannels: 3, filters: 8, kernelSize: 3, padding, seed: 1 });
 * ```
 */
export type Padding = 'same' | 'valid';

/** `3` or `[3, 3]` -> `[3, 3]`; rejects anything that is not a positive integer. */
export function pair(
  value: number | readonly [number, number],
  what: string,
  where: string,
): [number, number] {
  const p: [number, number] = typeof value === 'number' ? [value, value] : [value[0], value[1]];
  if (!p.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `${what} must be positive integers, got ${JSON.stringify(value)}`,
      {
        where,
      },
    );
  }
  return p;
}

/**
 * Output length of a window op along one axis, as TensorFlow defines it: `same` keeps
 * ceil(n / stride); `valid` keeps only windows fully inside the input.
 */
export function outputLength(
  n: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: Padding,
): number {
  if (padding === 'same') return Math.ceil(n / stride);
  const effectiveKernel = (kernel - 1) * dilation + 1;
  return Math.max(0, Math.floor((n - effectiveKernel) / stride) + 1);
}

/** tfjs rejects strides > 1 together with dilation > 1; say so before tfjs does. */
export function assertStridesOrDilation(
  strides: [number, number],
  dilation: [number, number],
  where: string,
): void {
  if (strides.some((s) => s > 1) && dilation.some((d) => d > 1)) {
    throw new GraftError('INVALID_ARGUMENT', 'strides > 1 cannot be combined with dilation > 1', {
      where,
      hint: 'Use strides 1 with a dilated kernel, or dilation 1 with strides.',
    });
  }
}

/** Batched NHWC input whose channel count the layer was built for. */
export function assertImageBatch(shape: readonly number[], channels: number, where: string): void {
  if (shape.length !== 4 || shape[3] !== channels) {
    throw new GraftError(
      'SHAPE_MISMATCH',
      `Expected a batch of images [batch, height, width, ${channels}], got [${shape.join(', ')}]`,
      { where },
    );
  }
}

/**
 * A ZeroPadding2D's `[[top, bottom], [left, right]]` as the explicit padding of the 'valid'
 * convolution after it, so that the two run as one (Conv2D and DepthwiseConv2D
 * `applyPadded`). A layer that pads by itself ('same') cannot take another padding.
 */
export function foldedPadding(
  layerPadding: Padding,
  padding: SpatialPadding,
  where: string,
): tf.backend_util.ExplicitPadding {
  if (layerPadding !== 'valid') {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `applyPadded needs 'valid' padding, the layer has '${layerPadding}'`,
      { where },
    );
  }
  const [[top, bottom], [left, right]] = padding;
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}
