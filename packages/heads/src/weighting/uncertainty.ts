import {
  createParam,
  type GradientStrategy,
  gradientsOfCombinedLoss,
  type Param,
} from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Options of {@link uncertainty}: the starting log-variance of every task.
 *
 * @example
 * ```ts
 * const strategy = uncertainty({ initialLogVariance: 0 } satisfies UncertaintyOptions);
 * ```
 */
export interface UncertaintyOptions {
  /** Starting log-variance s_t of every task. Default 0 (weight 0.5). */
  initialLogVariance?: number;
}

/**
 * Homoscedastic uncertainty weighting (Kendall, Gal & Cipolla 2018): each task learns a
 * log-variance s_t with the model, and the loss is sum_t 0.5 exp(-s_t) L_t + 0.5 s_t. The
 * optimum is exp(s_t) = L_t, so a task whose loss stays high (noisy labels) ends with a low
 * weight 0.5 exp(-s_t), and the s_t term stops every weight from collapsing to 0. The same
 * form is used for every task kind, as LibMTL does.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, plan, strategy: uncertainty() }); // learns one weight per task
 * ```
 */
export function uncertainty(options: UncertaintyOptions = {}): GradientStrategy {
  const initial = options.initialLogVariance ?? 0;
  let tasks: readonly string[] = [];
  let logVariances: Param[] = [];
  return {
    name: 'uncertainty',
    init(names) {
      for (const p of logVariances) p.variable.dispose();
      tasks = names;
      logVariances = names.map((task) =>
        createParam(
          { name: `uncertainty/log_variance_${task}`, block: 'taskWeighting', kind: 'bias' },
          () => tf.scalar(initial),
        ),
      );
    },
    params: () => logVariances,
    computeGradients: (context) =>
      gradientsOfCombinedLoss(
        context,
        (losses) =>
          tf.tidy(() =>
            tf.addN(
              tasks.map((task, t) => {
                const s = (logVariances[t] as Param).variable;
                return tf.mul(0.5, tf.add(tf.mul(tf.exp(tf.neg(s)), losses[task] as tf.Scalar), s));
              }),
            ),
          ) as tf.Scalar,
      ),
    taskWeights: () =>
      Object.fromEntries(
        tasks.map((task, t) => [
          task,
          0.5 * Math.exp(-((logVariances[t] as Param).variable.dataSync()[0] as number)),
        ]),
      ),
    dispose() {
      for (const p of logVariances) p.variable.dispose();
      logVariances = [];
    },
  };
}
