import { type GradientStrategy, gradientsOfCombinedLoss, weightedSum } from '@graft/core';
import { GraftError } from '@graft/errors';

/**
 * Options of {@link staticWeights}: one fixed weight per task.
 *
 * @example
 * ```ts
 * const options: StaticWeightsOptions = { weights: { presence: 1, carCount: 0.5 } };
 * const trainer = new Trainer({ model, plan, strategy: staticWeights(options) });
 * ```
 */
export interface StaticWeightsOptions {
  /** A fixed weight per task name, >= 0; every task must be named. */
  weights: Readonly<Record<string, number>>;
}

/**
 * Fixed, hand-chosen task weights: loss = sum_t w_t L_t.
 *
 * @example
 * ```ts
 * const strategy = staticWeights({ weights: { presence: 1, lightColour: 2, carCount: 0.5 } });
 * ```
 */
export function staticWeights(options: StaticWeightsOptions): GradientStrategy {
  const { weights } = options;
  let tasks: readonly string[] = [];
  return {
    name: 'static',
    init(names) {
      const where = 'static task weights';
      for (const name of Object.keys(weights)) {
        if (!names.includes(name)) {
          throw new GraftError(
            'TASK_NOT_FOUND',
            `A weight is given for "${name}", which is not a task of the model`,
            {
              where,
              hint: `The model's tasks: ${names.join(', ')}.`,
            },
          );
        }
      }
      const missing = names.filter((t) => !(t in weights));
      if (missing.length > 0) {
        throw new GraftError('TASK_NOT_FOUND', `No weight for task(s) ${missing.join(', ')}`, {
          where,
          hint: 'Static weighting needs a weight for every task (0 switches a task off).',
        });
      }
      for (const [name, w] of Object.entries(weights)) {
        if (!(w >= 0 && Number.isFinite(w))) {
          throw new GraftError(
            'INVALID_ARGUMENT',
            `The weight of "${name}" must be a finite number >= 0, got ${w}`,
            { where },
          );
        }
      }
      tasks = names;
    },
    computeGradients: (context) => gradientsOfCombinedLoss(context, (l) => weightedSum(l, weights)),
    taskWeights: () => Object.fromEntries(tasks.map((t) => [t, weights[t] ?? 0])),
  };
}
