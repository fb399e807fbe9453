import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import { type ActivationName, activationName, applyActivation } from './activation';
import { initialKernel, type KernelInitializer } from './initializers';
import type { ApplyOptions, Layer, Shape } from './module';
import { createParam, type Param } from './param';
import { pair } from './spatial';

/**
 * Options of {@link Dense}: input and output units, bias, initialiser, seed and activation.
 *
 * @example
 * ```ts
 * const options: DenseOptions = { name: 'carCount_output', inputUnits: 1280, units: 1, seed: 1 };
 * ```
 */
export interface DenseOptions {
  name: string;
  /** Block the parameters belong to. Default: the layer name. */
  block?: string;
  inputUnits: number;
  units: number;
  /** Default true, as in Keras. */
  useBias?: boolean;
  /** Default 'glorotUniform', as in Keras. */
  kernelInitializer?: KernelInitializer;
  seed: number;
  /** Applied after the bias, as Keras's `activation` argument. Default 'linear'. */
  activation?: ActivationName;
}

/**
 * The resolved settings of a {@link Dense} layer.
 *
 * @example
 * ```ts
 * const { inputUnits, units, useBias, activation }: DenseConfig = dense.config;
 * ```
 */
export interface DenseConfig {
  inputUnits: number;
  units: number;
  useBias: boolean;
  activation: ActivationName;
}

/**
 * Fully connected layer on [batch, inputUnits]; kernel `[in, out]` as in Keras. No activation.
 *
 * @example
 * ```ts
 * const dense = new Dense({ name: 'logits', inputUnits: 1280, units: 4, seed: 1 });
 * dense.apply(tf.zeros([8, 1280]), { training: false }).shape; // [8, 4]
 * ```
 */
export class Dense implements Layer {
  readonly className = 'Dense' as const;
  readonly name: string;
  readonly config: DenseConfig;
  readonly kernel: Param;
  readonly bias: Param | undefined;

  constructor(options: DenseOptions) {
    const where = `Dense ${options.name}`;
    this.name = options.name;
    this.config = {
      inputUnits: pair(options.inputUnits, 'inputUnits', where)[0],
      units: pair(options.units, 'units', where)[0],
      useBias: options.useBias ?? true,
      activation: activationName(options.activation ?? 'linear', where),
    };
    const { inputUnits, units } = this.config;
    const block = options.block ?? options.name;
    const kernelName = `${this.name}/kernel`;
    this.kernel = createParam({ name: kernelName, block, kind: 'kernel' }, () =>
      initialKernel(
        options.kernelInitializer ?? 'glorotUniform',
        [inputUnits, units],
        options.seed,
        kernelName,
      ),
    );
    this.bias = this.config.useBias
      ? createParam({ name: `${this.name}/bias`, block, kind: 'bias' }, () => tf.zeros([units]))
      : undefined;
  }

  params(): Param[] {
    return this.bias ? [this.kernel, this.bias] : [this.kernel];
  }

  apply(x: tf.Tensor, _options: ApplyOptions): tf.Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.config.inputUnits) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `Expected [batch, ${this.config.inputUnits}], got [${x.shape.join(', ')}]`,
        {
          where: `Dense ${this.name}`,
          hint: 'Pool or flatten image features before a Dense layer.',
        },
      );
    }
    return tf.tidy(() => {
      const y = tf.matMul(x as tf.Tensor2D, this.kernel.variable as tf.Tensor2D);
      return applyActivation(this.bias ? tf.add(y, this.bias.variable) : y, this.config.activation);
    });
  }

  outputShape(_input: Shape): Shape {
    return [this.config.units];
  }
}
