import * as tf from '@tensorflow/tfjs-core';
import { heapValues, setVariable } from '../kernels/heapViews';
import type { Param } from '../nn/param';
import { sharedClone } from '../tape/shareData';

/**
 * The values of a set of parameters at one moment, without copying: tfjs replaces a
 * variable's data on every update rather than writing into it, so holding the old data is
 * enough. Holds memory until disposed.
 *
 * @example
 * ```ts
 * const snapshot: WeightSnapshot = snapshotParams(model.params);
 * // ... train ...
 * restoreParams(model.params, snapshot);
 * snapshot.dispose();
 * ```
 */
export interface WeightSnapshot {
  /** Per parameter name. */
  readonly tensors: ReadonlyMap<string, tf.Tensor>;
  /** Copies the values to host memory, e.g. to write a checkpoint. */
  read(): Map<string, { shape: number[]; values: Float32Array }>;
  dispose(): void;
}

/**
 * Takes every parameter's current value without copying (tfjs replaces variables' data on
 * update); dispose the snapshot when done.
 *
 * @example
 * ```ts
 * const snapshot = snapshotParams(model.params);
 * const host = snapshot.read(); // name -> { shape, values }
 * snapshot.dispose();
 * ```
 */
export function snapshotParams(params: readonly Param[]): WeightSnapshot {
  const tensors = new Map<string, tf.Tensor>();
  // No kernel call per parameter (see sharedClone): a step snapshots 104 moving statistics.
  for (const p of params) tensors.set(p.name, tf.keep(sharedClone(p.variable)));
  return snapshotOf(tensors);
}

/** A snapshot holding saved host values (a checkpoint's), as `snapshotParams` would. */
export function snapshotFromHost(
  values: ReadonlyMap<string, { shape: readonly number[]; values: Float32Array }>,
): WeightSnapshot {
  const tensors = new Map<string, tf.Tensor>();
  for (const [name, v] of values) tensors.set(name, tf.keep(tf.tensor(v.values, [...v.shape])));
  return snapshotOf(tensors);
}

function snapshotOf(tensors: Map<string, tf.Tensor>): WeightSnapshot {
  return {
    tensors,
    read() {
      const out = new Map<string, { shape: number[]; values: Float32Array }>();
      for (const [name, t] of tensors) {
        out.set(name, { shape: [...t.shape], values: Float32Array.from(t.dataSync()) });
      }
      return out;
    },
    dispose() {
      tf.dispose([...tensors.values()]);
      tensors.clear();
    },
  };
}

/**
 * Puts the snapshot's values back into the parameters it names; the snapshot stays valid.
 *
 * @example
 * ```ts
 * const best = snapshotParams(model.params);
 * restoreParams(model.params, best); // e.g. after a worse epoch
 * ```
 */
export function restoreParams(params: readonly Param[], snapshot: WeightSnapshot): void {
  for (const p of params) {
    const saved = snapshot.tensors.get(p.name);
    if (saved) p.variable.assign(saved);
  }
}

/** Values copied by {@link copyParams}. */
export interface HostCopy {
  /** Puts the values back into the parameters (in place where they own their memory). */
  restore(): void;
}

/**
 * The float32 parameters' values, copied to host memory: unlike {@link snapshotParams} this
 * shares no data with them, so they stay free to be written in place (the Trainer's step
 * copies the moving statistics this way, which batch norm then updates in place:
 * kernels/batchNormTrain.ts).
 */
export function copyParams(params: readonly Param[]): HostCopy {
  const saved = params.map((p) => [p, heapValues(p.variable).slice()] as const);
  return {
    restore() {
      for (const [p, values] of saved) setVariable(p.variable, values);
    },
  };
}
