import * as tf from '@tensorflow/tfjs-core';

interface HeapBackend {
  typedArrayFromHeap?(info: tf.TensorInfo): Float32Array;
  refCount?(dataId: object): number;
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
  const backend = tf.backend() as unknown as HeapBackend;
  if (t.dtype !== 'float32' || t.isDisposed) return undefined;
  if (typeof backend.typedArrayFromHeap !== 'function' || typeof backend.refCount !== 'function') {
    return undefined;
  }
  if (backend.refCount(t.dataId) !== 1) return undefined;
  return backend.typedArrayFromHeap(t as unknown as tf.TensorInfo);
}
