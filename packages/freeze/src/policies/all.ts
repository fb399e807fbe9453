import { staticPlan } from '../freezePlan';
import type { FreezePolicy } from '../freezePolicy';

/**
 * Fine-tune everything: the source notes' choice when task B has a lot of data.
 *
 * @example
 * ```ts
 * const plan = all().plan(model); // every parameter trains at the full learning rate
 * ```
 */
export function all(): FreezePolicy {
  return {
    name: 'all',
    plan: (model) =>
      staticPlan(model, 'all', (p) =>
        p.kind === 'movingMean' || p.kind === 'movingVariance'
          ? { trainable: false, lrScale: 0, reason: 'batch-norm statistic (follows the batch)' }
          : { trainable: true, lrScale: 1, reason: 'all parameters train' },
      ),
  };
}
