import { isHeadParam } from '../freezableModel';
import { staticPlan } from '../freezePlan';
import type { FreezePolicy } from '../freezePolicy';

/**
 * Train only the batch-norm affine parameters (gamma, beta) of the trunk, plus the heads: a
 * strong, cheap baseline (a few thousand parameters re-scale and re-shift every channel).
 *
 * @example
 * ```ts
 * const plan = bnOnly().plan(model); // trunk gamma/beta and the heads train
 * ```
 */
export function bnOnly(): FreezePolicy {
  return {
    name: 'bnOnly',
    plan: (model) =>
      staticPlan(model, 'bnOnly', (p) => {
        if (isHeadParam(model, p.block)) return { trainable: true, lrScale: 1, reason: 'head' };
        if (p.kind === 'gamma' || p.kind === 'beta') {
          return { trainable: true, lrScale: 1, reason: 'batch-norm affine' };
        }
        if (p.kind === 'movingMean' || p.kind === 'movingVariance') {
          return {
            trainable: false,
            lrScale: 0,
            reason: 'batch-norm statistic (follows the batch)',
          };
        }
        return { trainable: false, lrScale: 0, reason: 'frozen (not batch-norm)' };
      }),
  };
}
