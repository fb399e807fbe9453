import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import { nativeKernels } from '../native/nativeKernels';

const KERNEL = tf.UnsortedSegmentSum;

/**
 * UnsortedSegmentSum (used by the gradient of Gather, i.e. of embeddings and index lookups),
 * which tfjs-backend-wasm 4.22 lacks, in graft's WebAssembly SIMD kernel
 * (native/unsorted_segment_sum.c), in place on tfjs's heap where it can (see NativeKernels). Output [numSegments, ...x.shape[1:]]; ids outside
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
  const k = nativeKernels(KERNEL, backend);
  const result = backend.makeOutput([numSegments, ...x.shape.slice(1)], 'float32');
  // Zero-copy reads float32 x and the ids in place and writes the result in place; int32 x
  // is converted into a float32 copy in either mode, and own memory stages everything.
  const stageX = !k.zeroCopy || x.dtype !== 'float32';
  const [xs, ids, out] = k.scratch(
    [stageX ? rows * inner : 0, k.zeroCopy ? 0 : rows, k.zeroCopy ? 0 : numSegments * inner],
    KERNEL,
  ) as [number, number, number];
  const own = (address: number) => (k.zeroCopy ? undefined : address);
  const xIn = k.input(backend, x, { staging: stageX ? xs : undefined });
  const idsIn = k.input(backend, segmentIds, { staging: own(ids), as: 'i32' });
  const outAt = { staging: own(out) };
  k.fns.unsorted_segment_sum(
    xIn,
    idsIn,
    k.output(backend, result, outAt),
    rows,
    inner,
    numSegments,
  );
  k.flush(backend, result, outAt);
  return result;
}

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};
