import { GraftError } from '../errors';
import { isMovingStatistic, type Param } from '../nn/param';
import type { BatchNormMode } from './trainableModel';

/**
 * How one parameter trains under a plan.
 *
 * @example
 * ```ts
 * const decision: TrainableDecision = { trainable: true, lrScale: 0.1 };
 * ```
 */
export interface TrainableDecision {
  readonly trainable: boolean;
  /** Multiplies the optimizer's learning rate for this parameter. */
  readonly lrScale: number;
}

/**
 * What the Trainer needs from a freezing plan. `@graft/freeze`'s `FreezePlan` satisfies it
 * structurally; core does not depend on freeze.
 *
 * @example
 * ```ts
 * const plan: TrainablePlan = {
 *   params: new Map(model.params.map((p) => [p.name, { trainable: p.block.startsWith('head:'), lrScale: 1 }])),
 * };
 * const trainer = new Trainer({ model, plan });
 * ```
 */
export interface TrainablePlan {
  /** Per parameter name. Parameters the plan does not name keep their flag, at lrScale 1. */
  readonly params: ReadonlyMap<string, TrainableDecision>;
  /** Per batch-norm layer name, how it runs while training. */
  readonly batchNorm?: ReadonlyMap<string, BatchNormMode>;
  /** The plan in force at a 0-based epoch, for plans that change between epochs. */
  at?(epoch: number): TrainablePlan;
}

/**
 * Sets every parameter's `trainable` flag from the plan and returns each parameter's learning
 * rate scale by name. Moving statistics are skipped: they follow the batch, never an optimizer
 * (plans such as `all()` may still list them as trainable).
 *
 * @example
 * ```ts
 * const lrScales = applyPlan(model.params, lastBlocks(2).plan(model)); // sets each param's trainable flag
 * ```
 */
export function applyPlan(params: readonly Param[], plan: TrainablePlan): Map<string, number> {
  const known = new Set(params.map((p) => p.name));
  const unknown = [...plan.params.keys()].filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new GraftError(
      'PLAN_MISMATCH',
      `The plan names ${unknown.length} parameter(s) the model does not have, e.g. "${unknown[0]}"`,
      {
        where: 'Trainer plan',
        hint: 'Build the plan from the model being trained (policy.plan(model)), not from another model.',
      },
    );
  }
  const scales = new Map<string, number>();
  for (const p of params) {
    if (isMovingStatistic(p.kind)) continue;
    const decision = plan.params.get(p.name);
    if (decision) {
      if (!(decision.lrScale >= 0 && Number.isFinite(decision.lrScale))) {
        throw new GraftError(
          'INVALID_ARGUMENT',
          `lrScale must be a finite number >= 0, got ${decision.lrScale}`,
          { where: `plan entry ${p.name}` },
        );
      }
      p.trainable = decision.trainable;
    }
    scales.set(p.name, decision?.lrScale ?? 1);
  }
  return scales;
}
