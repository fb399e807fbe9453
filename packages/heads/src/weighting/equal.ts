import { equalWeights, type GradientStrategy } from '@graft/core';

/**
 * Every task counts once: the loss is the plain sum (LibMTL's EW). The Trainer's default.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, plan, strategy: equal() }); // what the Trainer does anyway
 * ```
 */
export function equal(): GradientStrategy {
  return equalWeights();
}
