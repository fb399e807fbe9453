import * as tf from '@tensorflow/tfjs-core';
import { type ActivationName, activationName, applyActivation } from './activation';
import { initialKernel, type KernelInitializer } from './initializers';
import type { ApplyOptions, Layer, Shape } from './module';
import { createParam, type Param } from './param';
import {
  assertImageBatch,
  assertStridesOrDilation,
  foldedPadding,
  outputLength,
  type Padding,
  pair,
} from './spatial';
import type { SpatialPadding } from './zeroPadding2d';

/**
 * Options of {@link Conv2D}: channels, filters, kernel size, strides, padding, dilation, bias,
 * initialiser, seed and activation.
 *
 * @example
 * ```ts
 * const options: Conv2DOptions = { name: 'Conv1', inputChannels: 3, filters: 32, kernelSize: 3, strides: 2, padding: 'same', seed: 1 };
 * ```
 */
export interface Conv2DOptions {
  name: string;
  /** Block the parameters belong to. Default: the layer name. */
  block?: string;
  inputChannels: number;
  filters: number;
  kernelSize: number | [number, number];
  strides?: number | [number, number];
  padding?: Padding;
  dilation?: number | [number, number];
  /** Default true, as in Keras. */
  useBias?: boolean;
  /** Default 'glorotUniform', as in Keras. */
  kernelInitializer?: KernelInitializer;
  seed: number;
  /** Applied after the bias, as Keras's `activation` argument. Default 'linear'. */
  activation?: ActivationName;
}

/**
 * Resolved configuration, in the terms a Keras `Conv2D` config uses.
 *
 * @example
 * ```ts
 * const { filters, kernelSize, strides, padding }: Conv2DConfig = conv.config;
 * ```
 */
export interface Conv2DConfig {
  inputChannels: number;
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  padding: Padding;
  dilation: [number, number];
  useBias: boolean;
  activation: ActivationName;
}

/**
 * 2-D convolution over NHWC images; kernel `[kh, kw, in, out]` as in Keras.
 *
 * @example
 * ```ts
 * const conv = new Conv2D({ name: 'Conv1', inputChannels: 3, filters: 32, kernelSize: 3, strides: 2, padding: 'same', useBias: false, seed: 1 });
 * conv.apply(tf.zeros([1, 96, 96, 3]), { training: false }).shape; // [1, 48, 48, 32]
 * ```
 */
export class Conv2D implements Layer {
  readonly className = 'Conv2D' as const;
  readonly name: string;
  readonly config: Conv2DConfig;
  readonly kernel: Param;
  readonly bias: Param | undefined;

  constructor(options: Conv2DOptions) {
    const where = `Conv2D ${options.name}`;
    this.name = options.name;
    const dilation = pair(options.dilation ?? 1, 'dilation', where);
    const strides = pair(options.strides ?? 1, 'strides', where);
    assertStridesOrDilation(strides, dilation, where);
    this.config = {
      inputChannels: pair(options.inputChannels, 'inputChannels', where)[0],
      filters: pair(options.filters, 'filters', where)[0],
      kernelSize: pair(options.kernelSize, 'kernelSize', where),
      strides,
      padding: options.padding ?? 'valid',
      dilation,
      useBias: options.useBias ?? true,
      activation: activationName(options.activation ?? 'linear', where),
    };
    const { kernelSize, inputChannels, filters } = this.config;
    const block = options.block ?? options.name;
    const kernelShape = [kernelSize[0], kernelSize[1], inputChannels, filters];
    const kernelName = `${this.name}/kernel`;
    this.kernel = createParam({ name: kernelName, block, kind: 'kernel' }, () =>
      initialKernel(
        options.kernelInitializer ?? 'glorotUniform',
        kernelShape,
        options.seed,
        kernelName,
      ),
    );
    this.bias = this.config.useBias
      ? createParam({ name: `${this.name}/bias`, block, kind: 'bias' }, () => tf.zeros([filters]))
      : undefined;
  }

  params(): Param[] {
    return this.bias ? [this.kernel, this.bias] : [this.kernel];
  }

  apply(x: tf.Tensor, _options: ApplyOptions): tf.Tensor {
    return this.convolve(x, this.config.padding);
  }

  /**
   * Whether {@link applyPadded} can stand in for a ZeroPadding2D before this layer: only with
   * 'valid' padding, where the layer itself adds none.
   */
  foldsPadding(): boolean {
    return this.config.padding === 'valid';
  }

  /**
   * This layer applied to `x` zero-padded by `padding` (a ZeroPadding2D's `[[top, bottom],
   * [left, right]]`), as one convolution with explicit padding: the same numbers without the
   * padded copy of `x`, and without the `Slice` that cuts its gradient back to `x`'s shape.
   * Keras stems are built this way (MobileNet's `conv1_pad`, ResNet's `conv1_pad`,
   * EfficientNet's `stem_conv_pad`). Requires {@link foldsPadding}.
   */
  applyPadded(x: tf.Tensor, padding: SpatialPadding, _options: ApplyOptions): tf.Tensor {
    return this.convolve(x, foldedPadding(this.config.padding, padding, `Conv2D ${this.name}`));
  }

  private convolve(x: tf.Tensor, pad: Padding | tf.backend_util.ExplicitPadding): tf.Tensor {
    assertImageBatch(x.shape, this.config.inputChannels, `Conv2D ${this.name}`);
    const { strides, dilation } = this.config;
    return tf.tidy(() => {
      const y = tf.conv2d(
        x as tf.Tensor4D,
        this.kernel.variable as tf.Tensor4D,
        strides,
        pad,
        'NHWC',
        dilation,
      );
      return applyActivation(this.bias ? tf.add(y, this.bias.variable) : y, this.config.activation);
    });
  }

  outputShape(input: Shape): Shape {
    const { kernelSize, strides, dilation, padding, filters } = this.config;
    return [
      outputLength(input[0] ?? 0, kernelSize[0], strides[0], dilation[0], padding),
      outputLength(input[1] ?? 0, kernelSize[1], strides[1], dilation[1], padding),
      filters,
    ];
  }
}
