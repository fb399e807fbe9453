import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import type { ApplyOptions, Layer, Shape } from './module';
import type { Param } from './param';

export interface ReLUOptions {
  name: string;
  /** Upper clip, as Keras's `ReLU(max_value)`. Default: none. */
  maxValue?: number;
}

/** max(x, 0), optionally clipped above, as Keras's ReLU layer. */
export class ReLU implements Layer {
  readonly className = 'ReLU' as const;
  readonly name: string;
  readonly config: { maxValue: number | undefined };

  constructor(options: ReLUOptions) {
    if (options.maxValue !== undefined && !(options.maxValue > 0)) {
      throw new GraftError(
        'INVALID_ARGUMENT',
        `maxValue must be positive, got ${options.maxValue}`,
        {
          where: `ReLU ${options.name}`,
        },
      );
    }
    this.name = options.name;
    this.config = { maxValue: options.maxValue };
  }

  params(): Param[] {
    return [];
  }

  apply(x: tf.Tensor, _options: ApplyOptions): tf.Tensor {
    const { maxValue } = this.config;
    // relu6 is one kernel (and one gradient) on every backend; a general clip is the fallback.
    if (maxValue === undefined) return tf.relu(x);
    if (maxValue === 6) return tf.relu6(x);
    return tf.clipByValue(x, 0, maxValue);
  }

  outputShape(input: Shape): Shape {
    return input;
  }
}

/** Keras's `ReLU(6.0)`, the MobileNet activation. */
export class ReLU6 extends ReLU {
  constructor(options: { name: string }) {
    super({ name: options.name, maxValue: 6 });
  }
}
