import * as tf from '@tensorflow/tfjs-core';
import type { ApplyOptions, Layer, Shape } from '../../nn/module';
import type { Param } from '../../nn/param';
import { assertImageRank } from './shapes';

export interface GlobalPooling2DOptions {
  name: string;
  /** Keep height and width as size-1 axes: [batch, 1, 1, c] (Keras's `keepdims`). Default false. */
  keepdims?: boolean;
}

/** Mean or maximum over height and width, as Keras's GlobalAveragePooling2D / GlobalMaxPooling2D. */
abstract class GlobalPooling2D implements Layer {
  abstract readonly className: 'GlobalAveragePooling2D' | 'GlobalMaxPooling2D';
  readonly name: string;
  readonly config: { keepdims: boolean };

  constructor(options: GlobalPooling2DOptions) {
    this.name = options.name;
    this.config = { keepdims: options.keepdims ?? false };
  }

  params(): Param[] {
    return [];
  }

  apply(x: tf.Tensor, _options: ApplyOptions): tf.Tensor {
    assertImageRank(x.shape, `${this.className} ${this.name}`);
    return this.pool(x, this.config.keepdims);
  }

  protected abstract pool(x: tf.Tensor, keepdims: boolean): tf.Tensor;

  outputShape(input: Shape): Shape {
    const channels = input[2] ?? 0;
    return this.config.keepdims ? [1, 1, channels] : [channels];
  }
}

/**
 * Keras's GlobalAveragePooling2D with its `keepdims` option (loaded models use it): the mean
 * over height and width, `[batch, c]`, or `[batch, 1, 1, c]` with `keepdims` (squeeze-excite).
 *
 * @example
 * ```ts
 * const pool = new GlobalAveragePooling2DKeepdims({ name: 'se_pool', keepdims: true });
 * pool.apply(tf.zeros([1, 7, 7, 96]), { training: false }).shape; // [1, 1, 1, 96]
 * ```
 */
export class GlobalAveragePooling2DKeepdims extends GlobalPooling2D {
  readonly className = 'GlobalAveragePooling2D' as const;
  protected pool(x: tf.Tensor, keepdims: boolean): tf.Tensor {
    return tf.mean(x, [1, 2], keepdims);
  }
}

/**
 * Keras's GlobalMaxPooling2D: the maximum over height and width, `[batch, h, w, c]` ->
 * `[batch, c]` (or `[batch, 1, 1, c]` with `keepdims`); a small object is not averaged away.
 *
 * @example
 * ```ts
 * const pool = new GlobalMaxPooling2D({ name: 'presence_pool' });
 * pool.apply(features, { training: false }); // [batch, channels]
 * ```
 */
export class GlobalMaxPooling2D extends GlobalPooling2D {
  readonly className = 'GlobalMaxPooling2D' as const;
  protected pool(x: tf.Tensor, keepdims: boolean): tf.Tensor {
    return tf.max(x, [1, 2], keepdims);
  }
}
