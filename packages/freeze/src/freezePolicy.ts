import type { FreezableModel } from './freezableModel';
import type { FreezePlan } from './freezePlan';

/**
 * A rule that turns a model into a plan. Policies are values, so they compose:
 * `fineTune()` is `headsOnly()` for a warm-up, then `discriminative(all())`.
 *
 * @example
 * ```ts
 * const policy: FreezePolicy = lastBlocks(2);
 * const plan = policy.plan(model); // plan.policy === 'lastBlocks(2)'
 * ```
 */
export interface FreezePolicy {
  /** Shown in plans and reports, e.g. `lastBlocks(2)`. */
  readonly name: string;
  plan(model: FreezableModel): FreezePlan;
}
