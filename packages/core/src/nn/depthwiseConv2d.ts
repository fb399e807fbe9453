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
 * Options of {@link DepthwiseConv2D}: channels, kernel size, strides, padding, depth multiplier,
 * dilation, bias, initialiser, seed and activation.
 *
 * @example
 * ```ts
 * const options: DepthwiseConv2DOptions = { name: 'block_1_depthwise', inputChannels: 96, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, seed: 1 };
 * ```
 */
export interface DepthwiseConv2DOptions {
  name: string;
  /** Block the parameters belong to. Default: the layer name. */
  block?: string;
  inputChannels: number;
  kernelSize: number | [number, number];
  strides?: number | [number, number];
  padding?: Padding;
  /** Output channels per input channel. Default 1. */
  depthMultiplier?: number;
  dilation?: number | [number, number];
  /** Default true, as in Keras. */
  useBias?: boolean;
  /** Default 'glorotUniform', as Keras's `depthwise_initializer`. */
  kernelInitializer?: KernelInitializer;
  seed: number;
  /** Applied after the bias, as Keras's `activation` argument. Default 'linear'. */
  activation?: ActivationName;
}

/**
 * The resolved settings of a {@link DepthwiseConv2D} layer.
 *
 * @example
 * ```ts
 * const { kernelSize, strides, depthMultiplier }: DepthwiseConv2DConfig = dw.config;
 * ```
 */
export interface DepthwiseConv2DConfig {
  inputChannels: number;
  kernelSize: [number, number];
  strides: [number, number];
  padding: Padding;
  depthMultiplier: number;
  dilation: [number, number];
  useBias: boolean;
  activation: ActivationName;
}

/**
 * Per-channel convolution; kernel `[kh, kw, in, multiplier]`, Keras's `depthwise_kernel`.
 *
 * @example
 * ```ts
 * const dw = new DepthwiseConv2D({ name: 'dw', inputChannels: 16, kernelSize: 3, padding: 'same', seed: 1 });
 * dw.apply(tf.zeros([1, 8, 8, 16]), { training: false }).shape; // [1, 8, 8, 16]
 * ```
 */
export class DepthwiseConv2D implements Layer {
  readonly className = 'DepthwiseConv2D' as const;
  readonly name: string;
  readonly config: DepthwiseConv2DConfig;
  readonly kernel: Param;
  readonly bias: Param | undefined;

  constructor(options: DepthwiseConv2DOptions) {
    const where = `DepthwiseConv2D ${options.name}`;
    this.name = options.name;
    const dilation = pair(options.dilation ?? 1, 'dilation', where);
    const strides = pair(options.strides ?? 1, 'strides', where);
    assertStridesOrDilation(strides, dilation, where);
    this.config = {
      inputChannels: pair(options.inputChannels, 'inputChannels', where)[0],
      kernelSize: pair(options.kernelSize, 'kernelSize', where),
      strides,
      padding: options.padding ?? 'valid',
      depthMultiplier: pair(options.depthMultiplier ?? 1, 'depthMultiplier', where)[0],
      dilation,
      useBias: options.useBias ?? true,
      activation: activationName(options.activation ?? 'linear', where),
    };
    const { kernelSize, inputChannels, depthMultiplier } = this.config;
    const block = options.block ?? options.name;
    const kernelShape = [kernelSize[0], kernelSize[1], inputChannels, depthMultiplier];
    const kernelName = `${this.name}/depthwise_kernel`;
    this.kernel = createParam({ name: kernelName, block, kind: 'depthwiseKernel' }, () =>
      initialKernel(
        options.kernelInitializer ?? 'glorotUniform',
        kernelShape,
        options.seed,
        kernelName,
      ),
    );
    this.bias = this.config.useBias
      ? createParam({ name: `${this.name}/bias`, block, kind: 'bias' }, () =>
          tf.zeros([inputChannels * depthMultiplier]),
        )
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
   * Requires {@link foldsPadding}.
   */
  applyPadded(x: tf.Tensor, padding: SpatialPadding, _options: ApplyOptions): tf.Tensor {
    return this.convolve(
      x,
      foldedPadding(this.config.padding, padding, `DepthwiseConv2D ${this.name}`),
    );
  }

  private convolve(x: tf.Tensor, pad: Padding | tf.backend_util.ExplicitPadding): tf.Tensor {
    assertImageBatch(x.shape, this.config.inputChannels, `DepthwiseConv2D ${this.name}`);
    const { strides, dilation } = this.config;
    return tf.tidy(() => {
      const y = tf.depthwiseConv2d(
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
    const { kernelSize, strides, dilation, padding, inputChannels, depthMultiplier } = this.config;
    return [
      outputLength(input[0] ?? 0, kernelSize[0], strides[0], dilation[0], padding),
      outputLength(input[1] ?? 0, kernelSize[1], strides[1], dilation[1], padding),
      inputChannels * depthMultiplier,
    ];
  }
}
