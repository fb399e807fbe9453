import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import { nativeKernels } from '../native/nativeKernels';

const KERNEL = tf.UnsortedSegmentSum;

/**
 * UnsortedSegmentSum (used by the gradient of Gather, i.e. of embeddings and index lookups),
 * which tfjs-backend-wasm 4.22 lacks, in graft's WebAssembly SIMD kernel
 * (native/unsorted_segment_sum.c). Output [numSegments, ...x.shape[1:]]; ids outside
 * [0, numSegments) are dropped, as on cpu. int32 x is summed in float32 and gives float32, as
 * on cpu.
 */
function unsortedSegmentSum(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, segmentIds } = args.inputs as tf.UnsortedSegmentSumInputs;
  const { numSegments } = args.attrs as unknown as tf.UnsortedSegmentSumAttrs;
  if (!x || !segmentIds) {
    throw new GraftError('KERNEL_BAD_INPUT', `Input ${x ? 'segmentIds' : 'x'} is missing`, {
      where: KERNEL,
    });
  }
  const described = `x [${x.shape}] ${x.dtype}, segmentIds [${segmentIds.shape}] ${segmentIds.dtype}, numSegments ${numSegments}`;
  const bad = (what: string) =>
    new GraftError('KERNEL_BAD_INPUT', `${what}; got ${described}`, { where: KERNEL });
  if (x.dtype !== 'float32' && x.dtype !== 'int32') throw bad('x must be float32 or int32');
  if (segmentIds.dtype !== 'int32') throw bad('segmentIds must be int32');
  if (x.shape.length < 1) throw bad('x must have at least one dimension');
  if (segmentIds.shape.length !== 1 || segmentIds.shape[0] !== x.shape[0]) {
    throw bad("segmentIds must be 1-D with one id per row of x (x's first dimension)");
  }
  if (!(Number.isInteger(numSegments) && numSegments >= 0)) {
    throw bad('numSegments must be a non-negative integer');
  }
  const rows = x.shape[0] ?? 0;
  const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const k = nativeKernels(KERNEL);
  const [xs, ids, out] = k.scratch([rows * inner, rows, numSegments * inner], KERNEL) as [
    number,
    number,
    number,
  ];
  // An Int32Array source converts element-wise to float32 in `set`.
  k.f32.set(backend.typedArrayFromHeap(x), xs / 4);
  k.i32.set(backend.typedArrayFromHeap(segmentIds) as Int32Array, ids / 4);
  k.fns.unsorted_segment_sum(xs, ids, out, rows, inner, numSegments);
  const result = backend.makeOutput([numSegments, ...x.shape.slice(1)], 'float32');
  (backend.typedArrayFromHeap(result) as Float32Array).set(
    k.f32.subarray(out / 4, out / 4 + numSegments * inner),
  );
  return result;
}

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};
