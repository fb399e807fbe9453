import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import type { ApplyOptions, Layer, Shape } from './module';
import type { Param } from './param';
import { clippedRelu } from './relu';

/**
 * Keras activation names graft runs. `silu` is Keras 3's name for `swish`; `hard_silu` for
 * `hard_swish` (x * relu6(x + 3) / 6, MobileNetV3's activation).
 *
 * @example
 * ```ts
 * const dense = new Dense({ name: 'hidden', inputUnits: 64, units: 32, activation: 'relu' satisfies ActivationName, seed: 1 });
 * ```
 */
export type ActivationName =
  | 'linear'
  | 'relu'
  | 'relu6'
  | 'sigmoid'
  | 'swish'
  | 'silu'
  | 'hard_swish'
  | 'hard_silu'
  | 'tanh'
  | 'softmax';

export const ACTIVATION_NAMES: readonly ActivationName[] = [
  'linear',
  'relu',
  'relu6',
  'sigmoid',
  'swish',
  'silu',
  'hard_swish',
  'hard_silu',
  'tanh',
  'softmax',
];

export function isActivationName(name: string): name is ActivationName {
  return (ACTIVATION_NAMES as readonly string[]).includes(name);
}

/** The activation called `name`, or INVALID_ARGUMENT listing the ones graft knows. */
export function activationName(name: string, where: string): ActivationName {
  if (isActivationName(name)) return name;
  throw new GraftError('INVALID_ARGUMENT', `Unknown activation "${name}"`, {
    where,
    hint: `Use one of: ${ACTIVATION_NAMES.join(', ')}.`,
  });
}

/**
 * Applies the named activation; softmax runs over the last axis, as in Keras.
 *
 * @example
 * ```ts
 * applyActivation(tf.tensor1d([-1, 2, 8]), 'relu6'); // [0, 2, 6]
 * ```
 */
export function applyActivation(x: tf.Tensor, name: ActivationName): tf.Tensor {
  switch (name) {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      // graft's clipped ReLU: same values as tf.relu6, a gradient that is cheap on wasm.
      return clippedRelu(x, 6);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'swish':
    case 'silu':
      return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
    case 'hard_swish':
    case 'hard_silu':
      return tf.tidy(() => tf.mul(x, tf.div(clippedRelu(tf.add(x, 3), 6), 6)));
    case 'tanh':
      return tf.tanh(x);
    case 'softmax':
      return tf.softmax(x);
  }
}

/**
 * Keras's `Activation` layer: an elementwise (or, for softmax, last-axis) function.
 *
 * @example
 * ```ts
 * const softmax = new Activation({ name: 'probs', activation: 'softmax' });
 * softmax.apply(logits, { training: false }); // over the last axis
 * ```
 */
export class Activation implements Layer {
  readonly className = 'Activation' as const;
  readonly name: string;
  readonly config: { activation: ActivationName };

  constructor(options: { name: string; activation: ActivationName }) {
    this.name = options.name;
    this.config = {
      activation: activationName(options.activation, `Activation ${options.name}`),
    };
  }

  params(): Param[] {
    return [];
  }

  apply(x: tf.Tensor, _options: ApplyOptions): tf.Tensor {
    return applyActivation(x, this.config.activation);
  }

  outputShape(input: Shape): Shape {
    return input;
  }
}
