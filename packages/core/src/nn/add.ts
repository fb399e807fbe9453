import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import type { ApplyOptions, Layer, Shape } from './module';
import type { Param } from './param';

/**
 * Elementwise sum of same-shaped inputs (Keras's Add), e.g. a residual connection.
 *
 * @example
 * ```ts
 * const residual = new Add({ name: 'block_1_add' });
 * residual.apply([input, output], { training: false });
 * ```
 */
export class Add implements Layer<tf.Tensor[]> {
  readonly className = 'Add' as const;
  readonly name: string;

  constructor(options: { name: string }) {
    this.name = options.name;
  }

  params(): Param[] {
    return [];
  }

  apply(xs: tf.Tensor[], _options: ApplyOptions): tf.Tensor {
    const [first, ...rest] = xs;
    if (!first || rest.length === 0) {
      throw new GraftError('INVALID_ARGUMENT', `Add needs at least two inputs, got ${xs.length}`, {
        where: `Add ${this.name}`,
      });
    }
    for (const x of rest) {
      if (!tf.util.arraysEqual(x.shape, first.shape)) {
        throw new GraftError(
          'SHAPE_MISMATCH',
          `Add inputs differ in shape: [${first.shape.join(', ')}] vs [${x.shape.join(', ')}]`,
          { where: `Add ${this.name}` },
        );
      }
    }
    return rest.length === 1 ? tf.add(first, rest[0] as tf.Tensor) : tf.addN(xs);
  }

  outputShape(inputs: Shape[]): Shape {
    return inputs[0] ?? [];
  }
}
