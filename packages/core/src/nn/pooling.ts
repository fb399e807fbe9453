import * as tf from '@tensorflow/tfjs-core';
import type { ApplyOptions, Layer, Shape } from './module';
import type { Param } from './param';
import { outputLength, type Padding, pair } from './spatial';

/** Mean over height and width: [batch, h, w, c] -> [batch, c]. */
export class GlobalAveragePooling2D implements Layer {
  readonly className = 'GlobalAveragePooling2D' as const;
  readonly name: string;

  constructor(options: { name: string }) {
    this.name = options.name;
  }

  params(): Param[] {
    return [];
  }

  apply(x: tf.Tensor, _options: ApplyOptions): tf.Tensor {
    return tf.mean(x, [1, 2]);
  }

  outputShape(input: Shape): Shape {
    return [input[2] ?? 0];
  }
}

export interface Pooling2DOptions {
  name: string;
  /** Default 2. */
  poolSize?: number | [number, number];
  /** Default: the pool size, as in Keras. */
  strides?: number | [number, number];
  /** Default 'valid', as in Keras. */
  padding?: Padding;
}

export interface Pooling2DConfig {
  poolSize: [number, number];
  strides: [number, number];
  padding: Padding;
}

function resolvePooling(options: Pooling2DOptions, where: string): Pooling2DConfig {
  const poolSize = pair(options.poolSize ?? 2, 'poolSize', where);
  return {
    poolSize,
    strides: pair(options.strides ?? poolSize, 'strides', where),
    padding: options.padding ?? 'valid',
  };
}

function pooledShape(input: Shape, config: Pooling2DConfig): Shape {
  const { poolSize, strides, padding } = config;
  return [
    outputLength(input[0] ?? 0, poolSize[0], strides[0], 1, padding),
    outputLength(input[1] ?? 0, poolSize[1], strides[1], 1, padding),
    input[2] ?? 0,
  ];
}

/** Windowed maximum over height and width. */
export class MaxPooling2D implements Layer {
  readonly className = 'MaxPooling2D' as const;
  readonly name: string;
  readonly config: Pooling2DConfig;

  constructor(options: Pooling2DOptions) {
    this.name = options.name;
    this.config = resolvePooling(options, `MaxPooling2D ${options.name}`);
  }

  params(): Param[] {
    return [];
  }

  apply(x: tf.Tensor, _options: ApplyOptions): tf.Tensor {
    const { poolSize, strides, padding } = this.config;
    return tf.maxPool(x as tf.Tensor4D, poolSize, strides, padding);
  }

  outputShape(input: Shape): Shape {
    return pooledShape(input, this.config);
  }
}

/** Windowed mean over height and width; `same` padding averages only real pixels, as in Keras. */
export class AveragePooling2D implements Layer {
  readonly className = 'AveragePooling2D' as const;
  readonly name: string;
  readonly config: Pooling2DConfig;

  constructor(options: Pooling2DOptions) {
    this.name = options.name;
    this.config = resolvePooling(options, `AveragePooling2D ${options.name}`);
  }

  params(): Param[] {
    return [];
  }

  apply(x: tf.Tensor, _options: ApplyOptions): tf.Tensor {
    const { poolSize, strides, padding } = this.config;
    return tf.avgPool(x as tf.Tensor4D, poolSize, strides, padding);
  }

  outputShape(input: Shape): Shape {
    return pooledShape(input, this.config);
  }
}
