import { type GradientStrategy, gradientsOfCombinedLoss, weightedSum } from '@graft/core';
import { GraftError } from '@graft/errors';

/**
 * Options of {@link dwa}: the softmax temperature.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, plan, strategy: dwa({ temperature: 2 } satisfies DwaOptions) });
 * ```
 */
export interface DwaOptions {
  /** Softmax temperature T; larger is closer to equal weights. Default 2, as in the paper. */
  temperature?: number;
}

/**
 * Dynamic Weight Average (Liu, Johns & Davison 2019): a task whose loss fell less over the
 * last epoch gets more weight in the next. With r_t = L_t(e-1) / L_t(e-2) (mean epoch
 * losses), w_t = K exp(r_t / T) / sum_i exp(r_i / T), K the number of tasks; the first two
 * epochs use equal weights. A task with no labels in one of those epochs counts as r = 1.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, plan, strategy: dwa({ temperature: 2 }) });
 * ```
 */
export function dwa(options: DwaOptions = {}): GradientStrategy {
  const temperature = options.temperature ?? 2;
  if (!(temperature > 0)) {
    throw new GraftError('INVALID_ARGUMENT', `temperature must be positive, got ${temperature}`, {
      where: 'dwa',
    });
  }
  let tasks: readonly string[] = [];
  let weights: Record<string, number> = {};
  const history: Readonly<Record<string, number>>[] = [];
  return {
    name: 'dwa',
    init(names) {
      tasks = names;
      weights = Object.fromEntries(names.map((t) => [t, 1]));
      history.length = 0;
    },
    computeGradients: (context) => gradientsOfCombinedLoss(context, (l) => weightedSum(l, weights)),
    onEpochEnd(taskLossMeans) {
      history.push(taskLossMeans);
      const last = history[history.length - 1];
      const before = history[history.length - 2];
      if (!last || !before) return;
      const ratios = tasks.map((t) => {
        const a = last[t];
        const b = before[t];
        return a !== undefined && b !== undefined && b > 0 ? a / b : 1;
      });
      const exps = ratios.map((r) => Math.exp(r / temperature));
      const total = exps.reduce((s, e) => s + e, 0);
      weights = Object.fromEntries(
        tasks.map((t, i) => [t, (tasks.length * (exps[i] as number)) / total]),
      );
    },
    taskWeights: () => ({ ...weights }),
    // The loss history is what the next epoch's weights come from: a resumed run needs it.
    state: () => ({ weights, history: [...history] }),
    restoreState(state) {
      const saved = state as { weights: Record<string, number>; history: Record<string, number>[] };
      weights = { ...saved.weights };
      history.length = 0;
      history.push(...saved.history);
    },
  };
}
