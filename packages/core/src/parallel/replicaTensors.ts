import * as tf from '@tensorflow/tfjs-core';
import { ownHeapView } from '../kernels/ownHeapView';

/**
 * Moves a data-parallel step's sums (views into the group's shared memory) into this
 * replica's tensors with one copy each and no new tensor where the backend allows it.
 *
 * Why: a MobileNetV2 step hands the optimizer 156 averaged gradients and assigns 104 averaged
 * moving statistics. As `tf.tensor` + `assign` that was ~1 ms of a ~45 ms replica step
 * (allocation, engine bookkeeping, disposal), all of it on top of what one thread does for
 * the same batch. On wasm the values are written into the tensors' memory in tfjs's heap
 * instead; elsewhere (cpu) the plain ops run.
 */

/**
 * One gradient tensor per parameter, kept from step to step and refilled with each step's
 * averaged gradient. The tensors are this object's: lend them to the optimizer (which only
 * reads them) and do not dispose them; {@link dispose} does, when training ends.
 */
export class ReducedGradients {
  private readonly kept = new Map<string, tf.Tensor>();

  /** A float32 tensor of `shape` holding `values`, valid until the next call for `name`. */
  tensor(name: string, shape: readonly number[], values: Float32Array): tf.Tensor {
    const held = this.kept.get(name);
    const view =
      held && tf.util.arraysEqual(held.shape, shape as number[]) ? ownHeapView(held) : undefined;
    if (view && view.length === values.length) {
      view.set(values);
      return held as tf.Tensor;
    }
    held?.dispose();
    const fresh = tf.keep(tf.tensor(values, shape as number[], 'float32'));
    this.kept.set(name, fresh);
    return fresh;
  }

  dispose(): void {
    for (const t of this.kept.values()) t.dispose();
    this.kept.clear();
  }
}

/** Sets a variable's values: in place where it owns its memory, else by `assign`. */
export function setVariable(variable: tf.Variable, values: Float32Array): void {
  const view = ownHeapView(variable);
  if (view && view.length === values.length) {
    view.set(values);
    return;
  }
  tf.tidy(() => variable.assign(tf.tensor(values, variable.shape, 'float32')));
}
