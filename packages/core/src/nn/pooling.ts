import * as tf from '@tensorflow/tfjs-core';
import type { ApplyOptions, Layer, Shape } from './module';
import type { Param } from './param';
import { outputLength, type Padding, pair } from './spatial';

/**
 * Mean over height and width: [batch, h, w, c] -> [batch, c].
 *
 * @example
 * ```ts
 * const pool = new GlobalAveragePooling2D({ name: 'avg_pool' });
 * pool.apply(tf.zeros([2, 7, 7, 1280]), { training: false }).shape; // [2, 1280]
 * ```
 */
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

/**
 * Options of {@link MaxPooling2D} and {@link AveragePooling2D}: window, strides and padding.
 *
 * @example
 * ```ts
 * const options: Pooling2DOptions = { name: 'pool1', poolSize: 3, strides: 2, padding: 'same' };
 * ```
 */
export interface Pooling2DOptions {
  name: string;
  /** Default 2. */
  poolSize?: number | [number, number];
  /** Default: the pool size, as in Keras. */
  strides?: number | [number, number];
  /** Default 'valid', as in Keras. */
  padding?: Padding;
}

/**
 * The resolved settings of a pooling layer.
 *
 * @example
 * ```ts
 * const { poolSize, strides, padding }: Pooling2DConfig = new MaxPooling2D({ name: 'pool' }).config;
 * ```
 */
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

/**
 * Windowed maximum over height and width.
 *
 * @example
 * ```ts
 * const pool = new MaxPooling2D({ name: 'pool', poolSize: 3, strides: 2, padding: 'same' });
 * ```
 */
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

/**
 * Windowed mean over height and width; `same` padding averages only real pixels, as in Keras.
 *
 * @example
 * ```ts
 * const pool = new AveragePooling2D({ name: 'pool', poolSize: 2 });
 * pool.apply(tf.zeros([1, 8, 8, 3]), { training: false }).shape; // [1, 4, 4, 3]
 * ```
 */
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
