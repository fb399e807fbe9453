import { equalWeights, type GradientStrategy } from '@graft/core';

/** Every task counts once: the loss is the plain sum (LibMTL's EW). The Trainer's default. */
export function equal(): GradientStrategy {
  return equalWeights();
}
