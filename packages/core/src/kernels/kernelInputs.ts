import type * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';

/** "[a, b, c]" for messages. */
export const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** Throws KERNEL_BAD_INPUT naming the kernel and every missing input. */
export function requireOperands(
  kernel: string,
  inputs: Record<string, tf.TensorInfo | undefined>,
): void {
  const missing = Object.keys(inputs).filter((name) => inputs[name] === undefined);
  if (missing.length > 0) {
    throw new GraftError('KERNEL_BAD_INPUT', `${kernel}: missing input ${missing.join(', ')}`, {
      where: kernel,
    });
  }
}

/** Throws KERNEL_BAD_INPUT unless `info` is a rank-4 float32 tensor. */
export function requireFloat4d(kernel: string, name: string, info: tf.TensorInfo): void {
  if (info.shape.length !== 4 || info.dtype !== 'float32') {
    throw new GraftError(
      'KERNEL_BAD_INPUT',
      `${kernel}: ${name} must be a rank-4 float32 NHWC tensor, got ${info.dtype} ${shapeText(info.shape)}`,
      { where: kernel },
    );
  }
}

/** Throws KERNEL_BAD_INPUT unless `info` is float32 (its shape is checked elsewhere). */
export function requireFloat32(kernel: string, name: string, info: tf.TensorInfo): void {
  if (info.dtype !== 'float32') {
    throw new GraftError(
      'KERNEL_BAD_INPUT',
      `${kernel}: ${name} must be float32, got ${info.dtype}`,
      {
        where: kernel,
      },
    );
  }
}
