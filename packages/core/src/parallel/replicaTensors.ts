import * as tf from '@tensorflow/tfjs-core';
import { ownHeapView } from '../kernels/heapViews';

/**
 * One gradient tensor per parameter, kept from step to step and refilled with each step's
 * averaged gradient. The tensors are this object's: lend them to the optimizer (which only
 * reads them) and do not dispose them; {@link dispose} does, when training ends.
 *
 * Why: a MobileNetV2 step hands the optimizer 156 averaged gradients. As new tensors (with
 * the 104 averaged moving statistics assigned the same way) that was ~1 ms of a ~45 ms replica
 * step, all of it on top of what one thread does for the same batch; the statistics go
 * through `setVariable` (kernels/heapViews.ts).
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
