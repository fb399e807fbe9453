import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/param';

/**
 * What a gradient strategy sees of one training step.
 *
 * @example
 * ```ts
 * // A strategy's step receives it: the tasks, shared and task-specific parameters, and the losses.
 * function sumOfLosses(context: GradientStrategyContext): GradientStrategyResult {
 *   return gradientsOfCombinedLoss(context, (losses) => weightedSum(losses));
 * }
 * ```
 */
export interface GradientStrategyContext {
  readonly tasks: readonly string[];
  /** Trainable parameters every task uses (the trunk), input to output. */
  readonly shared: readonly Param[];
  /** Trainable parameters of each task alone (its head). */
  readonly taskSpecific: Readonly<Record<string, readonly Param[]>>;
  /** Every variable to differentiate: the trainable model parameters and the strategy's own. */
  readonly variables: readonly tf.Variable[];
  /**
   * One forward pass over the step's batch, returning each task's masked loss. Call it inside
   * a gradient function (`tf.variableGrads`); every call is a new pass on the tape. Batch-norm
   * statistics are updated by the first pass of a step only, and dropout masks repeat, so
   * strategies that need one pass per task (PCGrad, GradNorm) stay consistent.
   */
  taskLosses(): Readonly<Record<string, tf.Scalar>>;
  /** Global step (1-based) and epoch (0-based). */
  readonly step: number;
  readonly epoch: number;
}

/**
 * What a gradient strategy's step returns: the minimised loss, each task's loss, and a gradient
 * per variable name. The caller disposes its tensors.
 *
 * @example
 * ```ts
 * const result: GradientStrategyResult = gradientsOfCombinedLoss(context, (l) => weightedSum(l));
 * ```
 */
export interface GradientStrategyResult {
  /** The loss the step minimises (the weighted total), for progress and the NaN guard. */
  readonly loss: tf.Scalar;
  /** Each task's unweighted loss. */
  readonly taskLosses: Readonly<Record<string, tf.Scalar>>;
  /** Gradient per variable name (`variable.name`), for the variables in the context. */
  readonly grads: tf.NamedTensorMap;
}

/**
 * Turns per-task losses into one set of gradients: task weighting (equal, static,
 * uncertainty, DWA, GradNorm) or gradient surgery (PCGrad). `@graft/heads` implements them,
 * one file per strategy; the Trainer only knows this interface. The caller disposes every
 * tensor of the result.
 *
 * @example
 * ```ts
 * const weights = { presence: 1, carCount: 0.5 };
 * const fixed: GradientStrategy = {
 *   name: 'fixed',
 *   computeGradients: (context) => gradientsOfCombinedLoss(context, (l) => weightedSum(l, weights)),
 *   taskWeights: () => weights,
 * };
 * ```
 */
export interface GradientStrategy {
  readonly name: string;
  /**
   * True when `computeGradients` updates host-side state from the batch's gradients
   * (GradNorm's task weights). Data-parallel training refuses such a strategy: each replica
   * would update it from its own rows, and the replicas would drift apart.
   */
  readonly perStepHostState?: boolean;
  /** Called once by the Trainer with the model's task names; validates options against them. */
  init?(tasks: readonly string[]): void;
  /** Parameters the strategy learns with the model (uncertainty's log-variances). */
  params?(): readonly Param[];
  computeGradients(context: GradientStrategyContext): GradientStrategyResult;
  /**
   * After each epoch: the mean unweighted training loss per task over the batches where it had
   * labels. A task with no labels all epoch is absent.
   */
  onEpochEnd?(taskLossMeans: Readonly<Record<string, number>>, epoch: number): void;
  /** The current weight of each task, for logs. */
  taskWeights(): Readonly<Record<string, number>>;
  /**
   * Host-side state a resumed run needs (DWA's loss history, GradNorm's weights and their
   * moments), as plain JSON data. Learned tensors belong in `params` instead.
   */
  state?(): unknown;
  /** Puts back what `state()` returned, in a fresh strategy after `init`. */
  restoreState?(state: unknown): void;
  dispose?(): void;
}

/**
 * Gradients of `combine(taskLosses)` for every variable of the context, in one pass. The
 * building block of the weighting strategies: equal and static weights pass a weighted sum,
 * uncertainty weighting adds its learned terms.
 *
 * @example
 * ```ts
 * const { loss, taskLosses, grads } = gradientsOfCombinedLoss(context, (losses) => weightedSum(losses, { carCount: 0.5 }));
 * ```
 */
export function gradientsOfCombinedLoss(
  context: GradientStrategyContext,
  combine: (taskLosses: Readonly<Record<string, tf.Scalar>>) => tf.Scalar,
): GradientStrategyResult {
  const kept: Record<string, tf.Scalar> = {};
  const { value, grads } = tf.variableGrads(() => {
    const losses = context.taskLosses();
    // Kept: they outlive the gradient computation's scope, for logs and strategies.
    for (const [task, loss] of Object.entries(losses)) kept[task] = tf.keep(loss);
    return combine(losses);
  }, context.variables as tf.Variable[]);
  return { loss: value, taskLosses: kept, grads };
}

/**
 * `sum_t weights[t] * loss_t`; tasks without a weight count once.
 *
 * @example
 * ```ts
 * weightedSum({ presence: tf.scalar(0.4), carCount: tf.scalar(2) }, { carCount: 0.5 }); // 1.4
 * ```
 */
export function weightedSum(
  taskLosses: Readonly<Record<string, tf.Scalar>>,
  weights: Readonly<Record<string, number>> = {},
): tf.Scalar {
  return tf.tidy(() => {
    const terms = Object.entries(taskLosses).map(([task, loss]) => {
      const w = weights[task] ?? 1;
      return w === 1 ? loss : tf.mul(loss, w);
    });
    return (terms.length === 1 ? tf.add(terms[0] as tf.Scalar, 0) : tf.addN(terms)) as tf.Scalar;
  });
}

/**
 * The Trainer's default: every task counts once (LibMTL's EW).
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, strategy: equalWeights() }); // the default
 * ```
 */
export function equalWeights(): GradientStrategy {
  let tasks: readonly string[] = [];
  return {
    name: 'equal',
    init(names) {
      tasks = names;
    },
    computeGradients: (context) => gradientsOfCombinedLoss(context, (l) => weightedSum(l)),
    taskWeights: () => Object.fromEntries(tasks.map((t) => [t, 1])),
  };
}
