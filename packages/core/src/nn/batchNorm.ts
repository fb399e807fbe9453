import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import { batchNormTraining } from './batchNormTraining';
import type { ApplyOptions, Layer, Shape } from './module';
import { createParam, type Param } from './param';
import { clippedRelu } from './relu';

/**
 * Options of {@link BatchNorm}: name, block, channels, momentum and epsilon.
 *
 * @example
 * ```ts
 * const options: BatchNormOptions = { name: 'conv1_bn', block: 'stem', channels: 32, momentum: 0.999 };
 * ```
 */
export interface BatchNormOptions {
  name: string;
  /** Block the parameters belong to. Default: the layer name. */
  block?: string;
  channels: number;
  /**
   * Weight of the old moving statistics per training step. Default 0.99, Keras's
   * BatchNormalization default; Keras applications (MobileNetV2) pass 0.999.
   */
  momentum?: number;
  /** Added to the variance before the square root. Default 1e-3, as in Keras. */
  epsilon?: number;
}

/**
 * The resolved settings of a {@link BatchNorm} layer.
 *
 * @example
 * ```ts
 * const { channels, momentum, epsilon }: BatchNormConfig = new BatchNorm({ name: 'bn', channels: 16 }).config;
 * ```
 */
export interface BatchNormConfig {
  channels: number;
  momentum: number;
  epsilon: number;
}

/**
 * Batch normalisation over the last axis, with Keras's four weights and their names.
 *
 * @example
 * ```ts
 * const bn = new BatchNorm({ name: 'conv1_bn', channels: 32, momentum: 0.999 });
 * bn.params().map((p) => p.name); // gamma, beta, moving_mean, moving_variance
 * ```
 */
export class BatchNorm implements Layer {
  readonly className = 'BatchNormalization' as const;
  readonly name: string;
  readonly config: BatchNormConfig;
  readonly gamma: Param;
  readonly beta: Param;
  readonly movingMean: Param;
  readonly movingVariance: Param;

  constructor(options: BatchNormOptions) {
    const where = `BatchNorm ${options.name}`;
    const { channels } = options;
    const momentum = options.momentum ?? 0.99;
    const epsilon = options.epsilon ?? 1e-3;
    if (!(Number.isInteger(channels) && channels >= 1)) {
      throw new GraftError(
        'INVALID_ARGUMENT',
        `channels must be a positive integer, got ${channels}`,
        { where },
      );
    }
    if (!(momentum >= 0 && momentum <= 1)) {
      throw new GraftError('INVALID_ARGUMENT', `momentum must be in [0, 1], got ${momentum}`, {
        where,
      });
    }
    if (!(epsilon > 0)) {
      throw new GraftError('INVALID_ARGUMENT', `epsilon must be positive, got ${epsilon}`, {
        where,
      });
    }
    this.name = options.name;
    this.config = { channels, momentum, epsilon };
    const block = options.block ?? options.name;
    const make = (weight: string, kind: Param['kind'], value: () => tf.Tensor) =>
      createParam({ name: `${this.name}/${weight}`, block, kind }, value);
    // Keras weight order: gamma, beta, moving_mean, moving_variance.
    this.gamma = make('gamma', 'gamma', () => tf.ones([channels]));
    this.beta = make('beta', 'beta', () => tf.zeros([channels]));
    this.movingMean = make('moving_mean', 'movingMean', () => tf.zeros([channels]));
    this.movingVariance = make('moving_variance', 'movingVariance', () => tf.ones([channels]));
  }

  params(): Param[] {
    return [this.gamma, this.beta, this.movingMean, this.movingVariance];
  }

  /**
   * Normalises x. With `relu` (`{}` a ReLU, `{ maxValue }` a clipped one) also applies that
   * activation, fused into the batch-norm kernel when training on wasm: see
   * {@link fuseBatchNormRelu}, which Block uses for a BatchNorm followed by a ReLU.
   */
  apply(x: tf.Tensor, options: ApplyOptions, relu?: { maxValue?: number }): tf.Tensor {
    if (x.rank < 2 || x.shape[x.rank - 1] !== this.config.channels) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `Expected ${this.config.channels} channels on the last axis, got shape [${x.shape.join(', ')}]`,
        { where: `BatchNorm ${this.name}` },
      );
    }
    const onBatchStatistics =
      options.training && options.batchNormModes?.get(this.name) !== 'inference';
    if (onBatchStatistics) {
      return batchNormTraining(x, {
        gamma: this.gamma.variable,
        beta: this.beta.variable,
        movingMean: this.movingMean.variable,
        movingVariance: this.movingVariance.variable,
        momentum: this.config.momentum,
        epsilon: this.config.epsilon,
        ...(relu ? { relu } : {}),
      });
    }
    // Inference: y = x * scale + shift with per-channel scale and shift, two full-size ops.
    // Plain ops, so gamma and beta still get gradients (fine-tuning with frozen statistics)
    // and the gradient needs no Tile.
    return tf.tidy(() => {
      const scale = tf.mul(
        this.gamma.variable,
        tf.rsqrt(tf.add(this.movingVariance.variable, this.config.epsilon)),
      );
      const shift = tf.sub(this.beta.variable, tf.mul(this.movingMean.variable, scale));
      const y = tf.add(tf.mul(x, scale), shift);
      if (!relu) return y;
      // The same ops as the ReLU layers (relu.ts, activation.ts) apply.
      return relu.maxValue === undefined ? tf.relu(y) : clippedRelu(y, relu.maxValue);
    });
  }

  outputShape(input: Shape): Shape {
    return input;
  }
}
