import * as tf from '@tensorflow/tfjs-core';

/**
 * Tensors' values read and written where they live, in the backend's heap (wasm), instead of
 * through a copy (`dataSync`) or a new tensor (`tf.tensor` + `assign`). Elsewhere (cpu) the
 * plain ops run.
 */

interface HeapBackend {
  typedArrayFromHeap?(info: tf.TensorInfo): Float32Array;
  refCount?(dataId: object): number;
}

function heapBackend(): HeapBackend {
  return tf.backend() as unknown as HeapBackend;
}

/**
 * A float32 tensor's values without a copy where the backend allows it (a view of the wasm
 * heap, valid until the heap grows), else `dataSync`'s array. Read it, do not write it.
 */
export function heapValues(t: tf.Tensor): Float32Array {
  const backend = heapBackend();
  if (typeof backend.typedArrayFromHeap === 'function') {
    return backend.typedArrayFromHeap(t as unknown as tf.TensorInfo);
  }
  return t.dataSync() as Float32Array;
}

/**
 * `t`'s float32 memory in the backend's heap, to write in place: only on a backend that
 * exposes its heap (wasm), and only while no other tensor shares the data (graft's zero-copy
 * Identity, the tape's shared saves and `snapshotParams` do share it), so that a write
 * changes `t` alone and every holder of the old values keeps them. Undefined otherwise: the
 * caller then makes a new tensor, as tfjs always does.
 *
 * Only for tensors nothing caches by data id: XNNPACK keeps packed copies of convolution and
 * matrix-product weights keyed that way, so parameters are never written in place.
 */
export function ownHeapView(t: tf.Tensor): Float32Array | undefined {
  const backend = heapBackend();
  if (t.dtype !== 'float32' || t.isDisposed) return undefined;
  if (typeof backend.typedArrayFromHeap !== 'function' || typeof backend.refCount !== 'function') {
    return undefined;
  }
  if (backend.refCount(t.dataId) !== 1) return undefined;
  return backend.typedArrayFromHeap(t as unknown as tf.TensorInfo);
}

/**
 * Sets a float32 variable's values: in place where it owns its memory ({@link ownHeapView}),
 * else by `assign` of a new tensor. For moving statistics, never for weights (see above).
 */
export function setVariable(variable: tf.Variable, values: Float32Array): void {
  const view = ownHeapView(variable);
  if (view && view.length === values.length) {
    view.set(values);
    return;
  }
  tf.tidy(() => variable.assign(tf.tensor(values, variable.shape, 'float32')));
}
