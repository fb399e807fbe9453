import type * as tf from '@tensorflow/tfjs-core';

/**
 * The stock kernels graft's own replaced (see registerTrainingKernels), by backend and name,
 * so that a replacement can hand the cases it does not cover (a dtype, say) back to them.
 */
const replaced = new Map<string, tf.KernelFunc>();

export function keepStockKernel(name: string, backend: string, kernelFunc: tf.KernelFunc): void {
  replaced.set(`${backend}/${name}`, kernelFunc);
}

export function stockKernel(name: string, backend: string): tf.KernelFunc | undefined {
  return replaced.get(`${backend}/${name}`);
}
