import * as tf from '@tensorflow/tfjs-core';
import { type ActivationName, activationName, applyActivation } from '../../nn/activation';
import { initialKernel } from '../../nn/initializers';
import type { ApplyOptions, Layer, Shape } from '../../nn/module';
import { createParam, type Param } from '../../nn/param';
import {
  assertImageBatch,
  assertStridesOrDilation,
  outputLength,
  type Padding,
  pair,
} from '../../nn/spatial';

export interface SeparableConv2DOptions {
  name: string;
  /** Block the parameters belong to. Default: the layer name. */
  block?: string;
  inputChannels: number;
  filters: number;
  kernelSize: number | [number, number];
  strides?: number | [number, number];
  padding?: Padding;
  depthMultiplier?: number;
  dilation?: number | [number, number];
  /** Default true, as in Keras. */
  useBias?: boolean;
  /** Default 'linear'. */
  activation?: ActivationName;
  seed: number;
}

export interface SeparableConv2DConfig {
  inputChannels: number;
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  padding: Padding;
  depthMultiplier: number;
  dilation: [number, number];
  useBias: boolean;
  activation: ActivationName;
}

/**
 * Keras's SeparableConv2D (Xception): a depthwise convolution, then a 1x1 convolution, then
 * bias and activation. Weights in Keras order: `depthwise_kernel` `[kh, kw, in, multiplier]`,
 * `pointwise_kernel` `[1, 1, in * multiplier, filters]`, `bias`.
 *
 * @example
 * ```ts
 * // Made by loadBackbone for Keras's SeparableConv2D (e.g. Xception); weights keep Keras names.
 * const conv = trunk.layer('block1_sepconv1') as SeparableConv2D;
 * conv.config.filters;
 * ```
 */
export class SeparableConv2D implements Layer {
  readonly className = 'SeparableConv2D' as const;
  readonly name: string;
  readonly config: SeparableConv2DConfig;
  readonly depthwiseKernel: Param;
  readonly pointwiseKernel: Param;
  readonly bias: Param | undefined;

  constructor(options: SeparableConv2DOptions) {
    const where = `SeparableConv2D ${options.name}`;
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
      depthMultiplier: pair(options.depthMultiplier ?? 1, 'depthMultiplier', where)[0],
      dilation,
      useBias: options.useBias ?? true,
      activation: activationName(options.activation ?? 'linear', where),
    };
    const { kernelSize, inputChannels, depthMultiplier, filters } = this.config;
    const block = options.block ?? options.name;
    const depthwiseName = `${this.name}/depthwise_kernel`;
    const pointwiseName = `${this.name}/pointwise_kernel`;
    const depthwiseShape = [kernelSize[0], kernelSize[1], inputChannels, depthMultiplier];
    const pointwiseShape = [1, 1, inputChannels * depthMultiplier, filters];
    this.depthwiseKernel = createParam(
      { name: depthwiseName, block, kind: 'depthwiseKernel' },
      () => initialKernel('glorotUniform', depthwiseShape, options.seed, depthwiseName),
    );
    this.pointwiseKernel = createParam({ name: pointwiseName, block, kind: 'kernel' }, () =>
      initialKernel('glorotUniform', pointwiseShape, options.seed, pointwiseName),
    );
    this.bias = this.config.useBias
      ? createParam({ name: `${this.name}/bias`, block, kind: 'bias' }, () => tf.zeros([filters]))
      : undefined;
  }

  params(): Param[] {
    const kernels = [this.depthwiseKernel, this.pointwiseKernel];
    return this.bias ? [...kernels, this.bias] : kernels;
  }

  apply(x: tf.Tensor, _options: ApplyOptions): tf.Tensor {
    assertImageBatch(x.shape, this.config.inputChannels, `SeparableConv2D ${this.name}`);
    const { strides, padding, dilation, activation } = this.config;
    return tf.tidy(() => {
      const y = tf.separableConv2d(
        x as tf.Tensor4D,
        this.depthwiseKernel.variable as tf.Tensor4D,
        this.pointwiseKernel.variable as tf.Tensor4D,
        strides,
        padding,
        dilation,
      );
      return applyActivation(this.bias ? tf.add(y, this.bias.variable) : y, activation);
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
