import type { GradientStrategy } from '@graft/core';
import { GraftError } from '@graft/errors';
import { type DwaOptions, dwa } from './dwa';
import { equal } from './equal';
import { type GradNormOptions, gradNorm } from './gradNorm';
import { type PcGradOptions, pcGrad } from './pcGrad';
import { type StaticWeightsOptions, staticWeights } from './staticWeights';
import { type UncertaintyOptions, uncertainty } from './uncertainty';

/**
 * Options of each built-in strategy, by name.
 *
 * @example
 * ```ts
 * const options: TaskWeightingOptions['dwa'] = { temperature: 2 };
 * const strategy = taskWeighting('dwa', options);
 * ```
 */
export interface TaskWeightingOptions {
  equal: Record<string, never>;
  static: StaticWeightsOptions;
  uncertainty: UncertaintyOptions;
  dwa: DwaOptions;
  gradnorm: GradNormOptions;
  pcgrad: PcGradOptions;
}

/**
 * The name of a built-in task-weighting strategy: `equal`, `static`, `uncertainty`, `dwa`,
 * `gradnorm` or `pcgrad`.
 *
 * @example
 * ```ts
 * const name: TaskWeightingName = 'uncertainty';
 * const strategy = taskWeighting(name);
 * ```
 */
export type TaskWeightingName = keyof TaskWeightingOptions;

type Factory = (options: never) => GradientStrategy;

/**
 * Strategies by name, one file each (LibMTL's `weighting/`): adding one is a new file and a
 * line here, or `registerTaskWeighting` from outside.
 */
const registry = new Map<string, Factory>([
  ['equal', equal],
  ['static', staticWeights as Factory],
  ['uncertainty', uncertainty as Factory],
  ['dwa', dwa as Factory],
  ['gradnorm', gradNorm as Factory],
  ['pcgrad', pcGrad as Factory],
]);

/**
 * A task-weighting / gradient strategy by name, e.g. `taskWeighting('dwa', { temperature: 2 })`.
 *
 * @example
 * ```ts
 * const strategy = taskWeighting('static', { weights: { presence: 1, carCount: 0.5 } });
 * const trainer = new Trainer({ model, plan, strategy });
 * ```
 */
export function taskWeighting<N extends TaskWeightingName>(
  name: N,
  ...options: TaskWeightingOptions[N] extends Record<string, never>
    ? []
    : Partial<TaskWeightingOptions[N]> extends TaskWeightingOptions[N]
      ? [TaskWeightingOptions[N]?]
      : [TaskWeightingOptions[N]]
): GradientStrategy;
export function taskWeighting(name: string, options?: unknown): GradientStrategy;
export function taskWeighting(name: string, options?: unknown): GradientStrategy {
  const factory = registry.get(name);
  if (!factory) {
    throw new GraftError('STRATEGY_UNKNOWN', `No task-weighting strategy named "${name}"`, {
      where: 'taskWeighting',
      hint: `Known: ${[...registry.keys()].join(', ')}.`,
    });
  }
  return (factory as (o: unknown) => GradientStrategy)(options ?? {});
}

/**
 * Adds a strategy under `name` (for strategies outside graft).
 *
 * @example
 * ```ts
 * registerTaskWeighting('halfFirst', () => staticWeights({ weights: { presence: 0.5, carCount: 1 } }));
 * taskWeightingNames().includes('halfFirst'); // true
 * ```
 */
export function registerTaskWeighting(
  name: string,
  factory: (options: never) => GradientStrategy,
): void {
  if (registry.has(name)) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `A task-weighting strategy named "${name}" exists already`,
      {
        where: 'registerTaskWeighting',
      },
    );
  }
  registry.set(name, factory);
}

/**
 * Names of every registered strategy.
 *
 * @example
 * ```ts
 * taskWeightingNames(); // ['equal', 'static', 'uncertainty', 'dwa', 'gradnorm', 'pcgrad']
 * ```
 */
export function taskWeightingNames(): string[] {
  return [...registry.keys()];
}
