import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import type { ApplyOptions, Layer, Shape } from './module';
import type { Param } from './param';

/**
 * `[[top, bottom], [left, right]]`, as Keras's ZeroPadding2D `padding`.
 *
 * @example
 * ```ts
 * const pad: SpatialPadding = [[0, 1], [0, 1]]; // MobileNetV2's pad before a stride-2 depthwise conv
 * const layer = new ZeroPadding2D({ name: 'block_1_pad', padding: pad });
 * ```
 */
export type SpatialPadding = readonly [readonly [number, number], readonly [number, number]];

/**
 * Pads height and width with zeros. Keras places one before every strided MobileNetV2 depthwise conv.
 *
 * @example
 * ```ts
 * const pad = new ZeroPadding2D({ name: 'pad', padding: [[1, 1], [1, 1]] });
 * pad.apply(tf.zeros([1, 8, 8, 3]), { training: false }).shape; // [1, 10, 10, 3]
 * ```
 */
export class ZeroPadding2D implements Layer {
  readonly className = 'ZeroPadding2D' as const;
  readonly name: string;
  readonly config: { padding: SpatialPadding };

  constructor(options: { name: string; padding: SpatialPadding }) {
    const flat = options.padding.flat();
    if (flat.length !== 4 || !flat.every((p) => Number.isInteger(p) && p >= 0)) {
      throw new GraftError(
        'INVALID_ARGUMENT',
        `padding must be [[top, bottom], [left, right]] of non-negative integers`,
        {
          where: `ZeroPadding2D ${options.name}`,
        },
      );
    }
    this.name = options.name;
    this.config = { padding: options.padding };
  }

  params(): Param[] {
    return [];
  }

  apply(x: tf.Tensor, _options: ApplyOptions): tf.Tensor {
    const [[top, bottom], [left, right]] = this.config.padding;
    return tf.pad(x, [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ]);
  }

  outputShape(input: Shape): Shape {
    const [[top, bottom], [left, right]] = this.config.padding;
    return [(input[0] ?? 0) + top + bottom, (input[1] ?? 0) + left + right, input[2] ?? 0];
  }
}
