import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../../errors';
import type { ApplyOptions, Layer, Shape } from '../../nn/module';
import type { Param } from '../../nn/param';
import { sizeOf } from './shapes';

/**
 * Keras's Reshape: a new per-example shape, at most one axis -1 (inferred).
 *
 * @example
 * ```ts
 * const r = new Reshape({ name: 'reshape', targetShape: [-1, 4] });
 * r.apply(tf.zeros([2, 8]), { training: false }).shape; // [2, 2, 4]
 * ```
 */
export class Reshape implements Layer {
  readonly className = 'Reshape' as const;
  readonly name: string;
  readonly config: { targetShape: readonly number[] };

  constructor(options: { name: string; targetShape: readonly number[] }) {
    const { targetShape } = options;
    const inferred = targetShape.filter((d) => d === -1).length;
    const ok = targetShape.every((d) => d === -1 || (Number.isInteger(d) && d >= 1));
    if (!ok || inferred > 1 || targetShape.length === 0) {
      throw new GraftError(
        'INVALID_ARGUMENT',
        `targetShape must be positive integers with at most one -1, got [${targetShape.join(', ')}]`,
        { where: `Reshape ${options.name}` },
      );
    }
    this.name = options.name;
    this.config = { targetShape: [...targetShape] };
  }

  params(): Param[] {
    return [];
  }

  apply(x: tf.Tensor, _options: ApplyOptions): tf.Tensor {
    const shape = this.outputShape(x.shape.slice(1));
    return tf.reshape(x, [x.shape[0] ?? -1, ...shape]);
  }

  outputShape(input: Shape): Shape {
    const size = sizeOf(input);
    const known = sizeOf(this.config.targetShape.filter((d) => d !== -1));
    const out = this.config.targetShape.map((d) => (d === -1 ? size / known : d));
    if (!out.every(Number.isInteger) || sizeOf(out) !== size) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `Cannot reshape [${input.join(', ')}] (${size} values) to [${this.config.targetShape.join(', ')}]`,
        { where: `Reshape ${this.name}` },
      );
    }
    return out;
  }
}

/**
 * Keras's Flatten: one axis per example (channels-last order, as Keras).
 *
 * @example
 * ```ts
 * const flat = new Flatten({ name: 'flatten' }).apply(x, { training: false }); // [batch, h*w*c]
 * ```
 */
export class Flatten implements Layer {
  readonly className = 'Flatten' as const;
  readonly name: string;

  constructor(options: { name: string }) {
    this.name = options.name;
  }

  params(): Param[] {
    return [];
  }

  apply(x: tf.Tensor, _options: ApplyOptions): tf.Tensor {
    return tf.reshape(x, [x.shape[0] ?? -1, sizeOf(x.shape.slice(1))]);
  }

  outputShape(input: Shape): Shape {
    return [sizeOf(input)];
  }
}
