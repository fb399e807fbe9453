import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../../errors';
import type { ApplyOptions, Layer, Shape } from '../../nn/module';
import type { Param } from '../../nn/param';

export interface DropoutOptions {
  name: string;
  /** Fraction of values zeroed in training mode, in [0, 1). */
  rate: number;
  /** Seeds the masks: call n of a layer draws from `${seed}/${name}/${n}`. Default 0. */
  seed?: number;
}

/**
 * Keras's Dropout: in training mode zeroes a random fraction `rate` of values and scales the
 * rest by 1 / (1 - rate); in inference mode the identity. Masks are seeded per call, so two
 * runs with the same seed and the same number of steps drop the same values.
 *
 * @example
 * ```ts
 * const dropout = new Dropout({ name: 'head_dropout', rate: 0.2, seed: 1 });
 * dropout.apply(x, { training: true }); // zeroes about 20%, scales the rest by 1.25
 * ```
 */
export class Dropout implements Layer {
  readonly className = 'Dropout' as const;
  readonly name: string;
  readonly config: { rate: number; seed: number };
  private calls = 0;

  constructor(options: DropoutOptions) {
    if (!(options.rate >= 0 && options.rate < 1)) {
      throw new GraftError('INVALID_ARGUMENT', `rate must be in [0, 1), got ${options.rate}`, {
        where: `Dropout ${options.name}`,
      });
    }
    this.name = options.name;
    this.config = { rate: options.rate, seed: options.seed ?? 0 };
  }

  params(): Param[] {
    return [];
  }

  apply(x: tf.Tensor, options: ApplyOptions): tf.Tensor {
    const { rate, seed } = this.config;
    if (!options.training || rate === 0) return x;
    this.calls += 1;
    return tf.dropout(x, rate, undefined, `${seed}/${this.name}/${this.calls}`);
  }

  outputShape(input: Shape): Shape {
    return input;
  }
}
