import type { GradientStrategyContext, Param } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';

/** One task's loss and its gradients, from a pass of its own. */
export interface TaskGradients {
  readonly loss: tf.Scalar;
  /** By variable name; a variable the task does not reach is absent. */
  readonly grads: tf.NamedTensorMap;
}

/**
 * Task `task`'s loss and gradients for `params`, in one forward and backward pass. The
 * strategies that need each task's gradient separately (PCGrad, GradNorm) pay one pass per
 * task: tfjs keeps no tape between gradient calls.
 */
export function taskGradients(
  context: GradientStrategyContext,
  task: string,
  params: readonly Param[],
): TaskGradients {
  const variables = params.map((p) => p.variable);
  const lossOf = () => context.taskLosses()[task] as tf.Scalar;
  if (variables.length === 0) return { loss: tf.tidy(lossOf), grads: {} };
  const { value, grads } = tf.variableGrads(lossOf, variables);
  return { loss: value, grads };
}
