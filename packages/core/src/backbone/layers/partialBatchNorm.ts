import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../../errors';
import { batchNormTraining } from '../../nn/batchNormTraining';
import type { ApplyOptions, Layer, Shape } from '../../nn/module';
import { createParam, type Param } from '../../nn/param';

export interface PartialBatchNormOptions {
  name: string;
  block?: string;
  channels: number;
  momentum: number;
  epsilon: number;
  /** Learn beta (Keras's `center`). */
  center: boolean;
  /** Learn gamma (Keras's `scale`); InceptionV3 turns it off before its ReLUs. */
  scale: boolean;
}

/**
 * Keras's BatchNormalization with `center` or `scale` off: the missing gamma is 1 and the
 * missing beta 0, and the layer has only the weights Keras saves for it (e.g. beta,
 * moving_mean, moving_variance). The full layer is nn/batchNorm.ts; this one exists so that
 * class keeps its fixed four weights.
 *
 * @example
 * ```ts
 * // Made by loadBackbone for a Keras BatchNormalization with scale=False (no gamma).
 * const layer = trunk.layer('bn_no_scale');
 * ```
 */
export class PartialBatchNorm implements Layer {
  readonly className = 'BatchNormalization' as const;
  readonly name: string;
  readonly config: { channels: number; momentum: number; epsilon: number };
  readonly gamma: Param | undefined;
  readonly beta: Param | undefined;
  readonly movingMean: Param;
  readonly movingVariance: Param;

  constructor(options: PartialBatchNormOptions) {
    const { channels, momentum, epsilon, name } = options;
    if (!(Number.isInteger(channels) && channels >= 1)) {
      throw new GraftError(
        'INVALID_ARGUMENT',
        `channels must be a positive integer, got ${channels}`,
        { where: `BatchNormalization ${name}` },
      );
    }
    this.name = name;
    this.config = { channels, momentum, epsilon };
    const block = options.block ?? name;
    const make = (weight: string, kind: Param['kind'], value: () => tf.Tensor) =>
      createParam({ name: `${name}/${weight}`, block, kind }, value);
    // Keras weight order: gamma, beta, moving_mean, moving_variance, skipping the absent ones.
    this.gamma = options.scale ? make('gamma', 'gamma', () => tf.ones([channels])) : undefined;
    this.beta = options.center ? make('beta', 'beta', () => tf.zeros([channels])) : undefined;
    this.movingMean = make('moving_mean', 'movingMean', () => tf.zeros([channels]));
    this.movingVariance = make('moving_variance', 'movingVariance', () => tf.ones([channels]));
  }

  params(): Param[] {
    const learned = [this.gamma, this.beta].filter((p): p is Param => p !== undefined);
    return [...learned, this.movingMean, this.movingVariance];
  }

  apply(x: tf.Tensor, options: ApplyOptions): tf.Tensor {
    const { channels, momentum, epsilon } = this.config;
    if (x.rank < 2 || x.shape[x.rank - 1] !== channels) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `Expected ${channels} channels on the last axis, got shape [${x.shape.join(', ')}]`,
        { where: `BatchNormalization ${this.name}` },
      );
    }
    const onBatchStatistics =
      options.training && options.batchNormModes?.get(this.name) !== 'inference';
    return tf.tidy(() => {
      if (onBatchStatistics) {
        return batchNormTraining(x, {
          gamma: this.gamma ? this.gamma.variable : tf.ones([channels]),
          beta: this.beta ? this.beta.variable : tf.zeros([channels]),
          movingMean: this.movingMean.variable,
          movingVariance: this.movingVariance.variable,
          momentum,
          epsilon,
        });
      }
      const invStd = tf.rsqrt(tf.add(this.movingVariance.variable, epsilon));
      const scale = this.gamma ? tf.mul(this.gamma.variable, invStd) : invStd;
      const meanShift = tf.mul(this.movingMean.variable, scale);
      const shift = this.beta ? tf.sub(this.beta.variable, meanShift) : tf.neg(meanShift);
      return tf.add(tf.mul(x, scale), shift);
    });
  }

  outputShape(input: Shape): Shape {
    return input;
  }
}
