import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import type { ApplyOptions, Layer, Shape } from './module';
import type { Param } from './param';

/** `[[top, bottom], [left, right]]`, as Keras's ZeroPadding2D `padding`. */
export type SpatialPadding = readonly [readonly [number, number], readonly [number, number]];

/** Pads height and width with zeros. Keras places one before every strided MobileNetV2 depthwise conv. */
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
