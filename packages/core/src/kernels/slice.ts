import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import { stockKernel } from './stockKernels';
import { copyHeapBox } from './wasmOps';

/**
 * `Slice` on wasm, copied inside the heap. The stock kernel first copies the whole input out
 * of the heap (`readSync`), then, for a box that is not one contiguous run, copies each
 * innermost row through a new `subarray` view. In training, a slice is the gradient of a pad:
 * for MobileNetV2's 4 `ZeroPadding2D` layers (before graft folded them into the depthwise
 * convolutions after them, nn/layerPairs.ts) that was 38k rows of 16 floats per
 * [16, 49, 49, 16] slice, 4.9 ms and 4.7 MB of garbage per step, about half of all the JS
 * allocation in a step. Here each contiguous run is one `copyWithin` in the heap, and nothing
 * is allocated per run.
 *
 * 4-byte (float32, int32) and 1-byte (bool) elements are copied bit for bit; other dtypes
 * (string, complex64) go to the stock kernel.
 */
function slice(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const backend = args.backend as BackendWasm;
  if (!['float32', 'int32', 'bool'].includes(x.dtype)) return stockSlice(args);
  const { begin, size } = args.attrs as unknown as {
    begin: number | number[];
    size?: number | number[];
  };
  const [from, count] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  tf.slice_util.assertParamsValid(x as tf.Tensor, from!, count!);
  const out = backend.makeOutput(count!, x.dtype);
  if (tf.util.sizeFromShape(count!) === 0) return out;
  copyHeapBox(
    backend.typedArrayFromHeap(x),
    x.shape,
    backend.typedArrayFromHeap(out),
    from!,
    count!,
  );
  return out;
}

function stockSlice(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const stock = stockKernel(tf.Slice, 'wasm');
  if (!stock) {
    const x = args.inputs.x as tf.TensorInfo;
    throw new GraftError('KERNEL_BAD_INPUT', `Slice: no wasm kernel slices ${x.dtype} tensors`, {
      where: 'Slice (wasm)',
    });
  }
  return stock(args) as tf.TensorInfo;
}

export const sliceConfig: tf.KernelConfig = {
  kernelName: tf.Slice,
  backendName: 'wasm',
  kernelFunc: slice as unknown as tf.KernelFunc,
};
