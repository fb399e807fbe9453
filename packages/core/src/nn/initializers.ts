import * as tf from '@tensorflow/tfjs-core';

/**
 * Initialisers for kernels; biases and batch-norm parameters start at constants.
 *
 * @example
 * ```ts
 * const dense = new Dense({ name: 'h', inputUnits: 64, units: 64, kernelInitializer: 'heUniform' satisfies KernelInitializer, seed: 1 });
 * ```
 */
export type KernelInitializer = 'glorotUniform' | 'heUniform';

/**
 * Fan-in and fan-out as Keras computes them from a kernel shape: the trailing two dimensions
 * are (input, output) and everything before them is the receptive field. A depthwise kernel
 * `[kh, kw, channels, multiplier]` therefore has fan-out kh*kw*multiplier, as in Keras.
 *
 * @example
 * ```ts
 * kernelFans([3, 3, 16, 32]); // { fanIn: 144, fanOut: 288 }
 * ```
 */
export function kernelFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    const n = shape[0] ?? 1;
    return { fanIn: n, fanOut: n };
  }
  const receptiveField = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const input = shape[shape.length - 2] as number;
  const output = shape[shape.length - 1] as number;
  return { fanIn: receptiveField * input, fanOut: receptiveField * output };
}

/**
 * Half-width of the uniform distribution each initialiser draws from.
 *
 * @example
 * ```ts
 * initializerLimit('glorotUniform', [64, 32]); // sqrt(6 / (64 + 32)) = 0.25
 * ```
 */
export function initializerLimit(kind: KernelInitializer, shape: readonly number[]): number {
  const { fanIn, fanOut } = kernelFans(shape);
  return kind === 'heUniform' ? Math.sqrt(6 / fanIn) : Math.sqrt(6 / (fanIn + fanOut));
}

/**
 * A seeded kernel. The seed string names the parameter as well as the layer seed, so every
 * parameter gets its own stream and adding a layer never shifts another layer's weights.
 *
 * @example
 * ```ts
 * const kernel = initialKernel('heUniform', [3, 3, 16, 32], 1, 'conv/kernel'); // same seed, same values
 * ```
 */
export function initialKernel(
  kind: KernelInitializer,
  shape: readonly number[],
  seed: number,
  paramName: string,
): tf.Tensor {
  const limit = initializerLimit(kind, shape);
  // randomUniform draws in JS (seedrandom's alea), so the values do not depend on the backend.
  return tf.randomUniform([...shape], -limit, limit, 'float32', `${seed}/${paramName}`);
}
