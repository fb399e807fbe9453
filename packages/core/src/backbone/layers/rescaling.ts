import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../../errors';
import type { ApplyOptions, Layer, Shape } from '../../nn/module';
import type { Param } from '../../nn/param';

/** A scalar, or one value per channel (broadcast over the last axis). */
export type ScaleValue = number | readonly number[];

/**
 * Keras's Rescaling: x * scale + offset, e.g. scale 1/255 to take bytes to [0, 1], or 1/127.5
 * with offset -1 for [-1, 1]. A backbone that starts with one takes raw pixel values, which
 * is how graft infers its preprocessing.
 *
 * @example
 * ```ts
 * const toUnit = new Rescaling({ name: 'rescale', scale: 1 / 255 }); // bytes -> [0, 1]
 * ```
 */
export class Rescaling implements Layer {
  readonly className = 'Rescaling' as const;
  readonly name: string;
  readonly config: { scale: ScaleValue; offset: ScaleValue };

  constructor(options: { name: string; scale: ScaleValue; offset?: ScaleValue }) {
    const offset = options.offset ?? 0;
    const finite = (v: ScaleValue) =>
      typeof v === 'number' ? Number.isFinite(v) : v.length > 0 && v.every(Number.isFinite);
    if (!finite(options.scale) || !finite(offset)) {
      throw new GraftError('INVALID_ARGUMENT', 'scale and offset must be finite numbers', {
        where: `Rescaling ${options.name}`,
      });
    }
    this.name = options.name;
    this.config = { scale: options.scale, offset };
  }

  params(): Param[] {
    return [];
  }

  apply(x: tf.Tensor, _options: ApplyOptions): tf.Tensor {
    const { scale, offset } = this.config;
    const asTensor = (v: ScaleValue) => (typeof v === 'number' ? v : tf.tensor1d([...v]));
    return tf.tidy(() => tf.add(tf.mul(x, asTensor(scale)), asTensor(offset)));
  }

  outputShape(input: Shape): Shape {
    return input;
  }
}
