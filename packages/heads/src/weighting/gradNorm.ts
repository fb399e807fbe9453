import {
  type GradientStrategy,
  type GradientStrategyContext,
  gradientsOfCombinedLoss,
  type Param,
  weightedSum,
} from '@graft/core';
import { GraftError } from '@graft/errors';
import * as tf from '@tensorflow/tfjs-core';
import { taskGradients } from './perTaskGradients';

/**
 * Options of {@link gradNorm}: the restoring force, the weights' learning rate, and how often
 * they update.
 *
 * @example
 * ```ts
 * const options: GradNormOptions = { alpha: 1.5, learningRate: 0.025, every: 4 };
 * const trainer = new Trainer({ model, plan, strategy: gradNorm(options) });
 * ```
 */
export interface GradNormOptions {
  /** Restoring force toward equal training rates. Default 1.5 (the paper's NYUv2 setting). */
  alpha?: number;
  /** Step size of the weights' own Adam. Default 0.025. */
  learningRate?: number;
  /** Update the weights every this many steps (each update costs one extra pass per task). Default 1. */
  every?: number;
  /**
   * The shared parameter whose gradient norms are balanced. Default: the last trainable
   * shared kernel (the paper's "last shared layer").
   */
  param?: string;
}

/**
 * GradNorm (Chen et al. 2018): learns task weights w_t so that the weighted tasks' gradient
 * norms on the last shared layer, G_t = w_t |grad_W L_t|, move toward a common value scaled by
 * each task's relative training rate: target_t = mean(G) r_t^alpha, r_t = (L_t/L_t(0)) /
 * mean(L/L(0)). The weights descend sum_t |G_t - target_t| (targets held constant) with their
 * own Adam, stay positive and are renormalised to sum to the number of tasks.
 *
 * Cost: on update steps, one extra forward pass per task (backward only down to that layer).
 * Without a trainable shared parameter there is nothing to balance and the weights stay equal.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, plan, strategy: gradNorm({ alpha: 1.5 }) });
 * ```
 */
export function gradNorm(options: GradNormOptions = {}): GradientStrategy {
  const alpha = options.alpha ?? 1.5;
  const lr = options.learningRate ?? 0.025;
  const every = options.every ?? 1;
  if (!(alpha >= 0) || !(lr > 0) || !(Number.isInteger(every) && every >= 1)) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      'gradNorm needs alpha >= 0, learningRate > 0 and a whole every >= 1',
      {
        where: 'gradNorm',
      },
    );
  }
  let tasks: readonly string[] = [];
  let w: number[] = [];
  let initial: number[] | undefined;
  let m: number[] = [];
  let v: number[] = [];
  let updates = 0;

  const update = (context: GradientStrategyContext, losses: number[]) => {
    const layer = balancedParam(context, options.param);
    if (!layer) return;
    const norms = tf.tidy(() =>
      tf.stack(
        tasks.map((task) => {
          const { loss, grads } = taskGradients(context, task, [layer]);
          const g = grads[layer.variable.name];
          loss.dispose();
          return g ? tf.norm(g) : tf.scalar(0);
        }),
      ),
    );
    const g = Array.from(norms.dataSync());
    norms.dispose();
    initial ??= losses.map((l) => (l > 0 ? l : 1));
    const ratios = losses.map((l, i) => l / (initial?.[i] as number));
    const meanRatio = ratios.reduce((s, r) => s + r, 0) / ratios.length;
    const weighted = g.map((gi, i) => (w[i] as number) * gi);
    const meanG = weighted.reduce((s, x) => s + x, 0) / weighted.length;
    updates++;
    tasks.forEach((_, i) => {
      const target = meanG * ((ratios[i] as number) / meanRatio) ** alpha;
      const grad = Math.sign((weighted[i] as number) - target) * (g[i] as number);
      m[i] = 0.9 * (m[i] as number) + 0.1 * grad;
      v[i] = 0.999 * (v[i] as number) + 0.001 * grad * grad;
      const step =
        (lr * ((m[i] as number) / (1 - 0.9 ** updates))) /
        (Math.sqrt((v[i] as number) / (1 - 0.999 ** updates)) + 1e-8);
      w[i] = Math.max(1e-3, (w[i] as number) - step);
    });
    const total = w.reduce((s, x) => s + x, 0);
    w = w.map((x) => (x * tasks.length) / total);
  };

  return {
    name: 'gradnorm',
    // Its weights follow each batch's per-task gradients, outside the model.
    perStepHostState: true,
    init(names) {
      tasks = names;
      w = names.map(() => 1);
      m = names.map(() => 0);
      v = names.map(() => 0);
      initial = undefined;
      updates = 0;
    },
    computeGradients(context) {
      const weights = Object.fromEntries(tasks.map((t, i) => [t, w[i] as number]));
      const result = gradientsOfCombinedLoss(context, (l) => weightedSum(l, weights));
      if ((context.step - 1) % every === 0) {
        const read = tf.tidy(() => tf.stack(tasks.map((t) => result.taskLosses[t] as tf.Scalar)));
        const losses = Array.from(read.dataSync());
        read.dispose();
        if (losses.every(Number.isFinite)) update(context, losses);
      }
      return result;
    },
    taskWeights: () => Object.fromEntries(tasks.map((t, i) => [t, w[i] as number])),
    // The weights, their own Adam's moments and the first losses: a resumed run needs all.
    state: () => ({ w, m, v, updates, ...(initial ? { initial } : {}) }),
    restoreState(state) {
      const s = state as {
        w: number[];
        m: number[];
        v: number[];
        updates: number;
        initial?: number[];
      };
      w = [...s.w];
      m = [...s.m];
      v = [...s.v];
      updates = s.updates;
      initial = s.initial ? [...s.initial] : undefined;
    },
  };
}

/** The named shared parameter, or the last trainable shared kernel. */
function balancedParam(
  context: GradientStrategyContext,
  name: string | undefined,
): Param | undefined {
  if (name !== undefined) {
    const found = context.shared.find((p) => p.name === name);
    if (!found) {
      throw new GraftError(
        'PARAM_NOT_FOUND',
        `gradNorm balances "${name}", which is not a trainable shared parameter`,
        {
          where: 'gradNorm',
          hint: `Trainable shared kernels end with: ${
            context.shared
              .filter((p) => p.kind === 'kernel')
              .slice(-3)
              .map((p) => p.name)
              .join(', ') || 'none'
          }.`,
        },
      );
    }
    return found;
  }
  return [...context.shared]
    .reverse()
    .find((p) => p.kind === 'kernel' || p.kind === 'depthwiseKernel');
}
