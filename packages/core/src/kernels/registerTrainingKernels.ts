import * as tf from '@tensorflow/tfjs-core';
import {
  batchNormTrainConfig,
  batchNormTrainGradConfig,
  batchNormTrainGradient,
  movingStatisticsConfig,
} from './batchNormTrain';
import { conv2dBackpropFilterConfig } from './conv2dBackpropFilter';
import { conv2dBackpropInputConfig } from './conv2dBackpropInput';
import { depthwiseConv2dNativeBackpropFilterConfig } from './depthwiseConv2dNativeBackpropFilter';
import { depthwiseConv2dNativeBackpropInputConfig } from './depthwiseConv2dNativeBackpropInput';
import { identityConfig } from './identity';
import { pointwiseConv2dConfig } from './pointwiseConv2d';
import { sliceConfig } from './slice';
import { keepStockKernel } from './stockKernels';
import { unsortedSegmentSumConfig } from './unsortedSegmentSum';

/**
 * Kernels the stock tfjs-backend-wasm 4.22 lacks for training, or has but too slowly
 * (Identity: it copies; Slice: it copies the whole input out of the heap first; Conv2D: it
 * re-packs a new filter on every call, and training makes new filters every step).
 * One file per kernel beside this one; each is added to this list and nowhere else.
 */
const WASM_TRAINING_KERNELS: tf.KernelConfig[] = [
  batchNormTrainConfig,
  batchNormTrainGradConfig,
  movingStatisticsConfig,
  pointwiseConv2dConfig,
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  identityConfig,
  sliceConfig,
  unsortedSegmentSumConfig,
];

let registered = false;

/**
 * Registers graft's training kernels on the `wasm` backend. Idempotent. Stock kernels of the
 * same name are replaced (tfjs allows one kernel per name and backend).
 */
export function registerTrainingKernels(): void {
  if (registered) return;
  for (const config of WASM_TRAINING_KERNELS) {
    const stock = tf.getKernel(config.kernelName, config.backendName);
    if (stock) {
      keepStockKernel(config.kernelName, config.backendName, stock.kernelFunc);
      tf.unregisterKernel(config.kernelName, config.backendName);
    }
    // A replacement that hands some calls back to the stock kernel (Conv2D) needs the stock
    // kernel's set-up, which binds its C function when the backend starts.
    tf.registerKernel({
      ...config,
      setupFunc: config.setupFunc ?? stock?.setupFunc,
      disposeFunc: config.disposeFunc ?? stock?.disposeFunc,
    });
  }
  // Gradients of graft's own kernels (tfjs keeps one per kernel name, for every backend).
  tf.registerGradient(batchNormTrainGradient);
  registered = true;
}

/**
 * Names of the kernels graft provides for `wasm`, for reports and tests.
 *
 * @example
 * ```ts
 * trainingKernelNames().includes('Conv2DBackpropFilter'); // true: the stock wasm backend lacks it
 * ```
 */
export function trainingKernelNames(): string[] {
  return WASM_TRAINING_KERNELS.map((k) => k.kernelName);
}
