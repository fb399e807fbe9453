import { isHeadParam } from '../freezableModel';
import { staticPlan } from '../freezePlan';
import type { FreezePolicy } from '../freezePolicy';

/**
 * The trunk is a fixed feature extractor; only the heads learn. The source notes' choice for
 * a small dataset, and what lets the Trainer use the feature cache.
 *
 * @example
 * ```ts
 * const plan = headsOnly().plan(model); // the trunk is frozen; the Trainer may cache its features
 * ```
 */
export function headsOnly(): FreezePolicy {
  return {
    name: 'headsOnly',
    plan: (model) =>
      staticPlan(model, 'headsOnly', (p) =>
        isHeadParam(model, p.block)
          ? { trainable: true, lrScale: 1, reason: 'head' }
          : { trainable: false, lrScale: 0, reason: 'trunk frozen (feature extractor)' },
      ),
  };
}
