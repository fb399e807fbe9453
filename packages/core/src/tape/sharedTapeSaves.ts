import * as tf from '@tensorflow/tfjs-core';
import { shareData } from './shareData';

/** The engine method tfjs calls to keep a tensor for the backward pass, and its depth count. */
interface SavingEngine {
  clone(x: tf.Tensor): tf.Tensor;
  state: { gradientDepth: number };
}

/**
 * Runs `f` (a forward pass and its gradients) with the tensors that tfjs's tape saves for
 * the backward pass shared rather than cloned through a recorded kernel.
 *
 * Why: for every kernel whose gradient needs its inputs or outputs, and every `customGrad`
 * `save`, tfjs calls `engine.clone`, which runs an `Identity` kernel and records a tape node
 * for it. A MobileNetV2 training step makes 248 of them; on wasm the copy itself is already
 * free (graft's zero-copy `Identity`), but the engine's work per call is not: 2–5 ms of a
 * 60 ms batch-8 step, timing the same step with and without, alternately. That cost does not
 * shrink with the batch, and per-step costs that do not shrink are what keep 2 data-parallel
 * replicas (each on half the batch) from doubling throughput.
 *
 * What is lost: the clone's tape node links a saved tensor to its source, which only matters
 * when a backward pass is itself differentiated (a gradient of a gradient). Saves made inside
 * a nested gradient (tfjs's gradient depth above 1, as in `tf.grad(tf.grad(f))`) therefore
 * keep tfjs's own clone, and a call nested in another `withSharedTapeSaves` is left as is.
 * The engine's method (or a wrapper installed on it) is put back when `f` returns or throws.
 *
 * @example
 * ```ts
 * const { value, grads } = withSharedTapeSaves(() => tf.variableGrads(() => loss(model(x))));
 * ```
 */
export function withSharedTapeSaves<T>(f: () => T): T {
  const engine = tf.engine() as unknown as SavingEngine;
  const original = engine.clone;
  if (active || typeof original !== 'function' || typeof engine.state?.gradientDepth !== 'number') {
    return f();
  }
  // Whatever is in effect now (tfjs's method, or a wrapper someone installed on the engine,
  // e.g. bench/profile.mjs's) handles the nested saves, and is put back afterwards.
  const own = Object.getOwnPropertyDescriptor(engine, 'clone');
  engine.clone = function sharedSave(this: SavingEngine, x: tf.Tensor): tf.Tensor {
    if (this.state.gradientDepth > 1) return original.call(this, x);
    return shareData(x) ?? original.call(this, x);
  };
  active = true;
  try {
    return f();
  } finally {
    active = false;
    if (own) Object.defineProperty(engine, 'clone', own);
    else delete (engine as Partial<SavingEngine>).clone;
  }
}

/** A call is running: a nested call leaves the engine as the outer one set it. */
let active = false;
