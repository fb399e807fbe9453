import { GraftError } from '@graft/errors';
import { trunkBlockNames } from '../freezableModel';
import { scheduledPlan } from '../freezePlan';
import type { FreezePolicy } from '../freezePolicy';
import { headsOnly } from './headsOnly';
import { lastBlocks } from './unfreezeBlocks';

/**
 * Options of {@link gradual}: how often one more trunk block opens, and how many at most.
 *
 * @example
 * ```ts
 * const options: GradualOptions = { every: 2, maxBlocks: 4 };
 * const plan = gradual(options).plan(model);
 * ```
 */
export interface GradualOptions {
  /** Unfreeze one more block every `every` epochs. */
  every: number;
  /** Stop after this many trunk blocks are open. Default: all of them. */
  maxBlocks?: number;
}

/**
 * Gradual unfreezing (ULMFiT): heads alone first, then one more trunk block from the top every
 * `every` epochs, so late features adapt before early ones are disturbed.
 *
 * @example
 * ```ts
 * const plan = gradual({ every: 1, maxBlocks: 3 }).plan(model);
 * plan.changesAt; // [1, 2, 3]: one more block from the top each epoch
 * ```
 */
export function gradual(options: GradualOptions): FreezePolicy {
  const { every } = options;
  if (!Number.isInteger(every) || every < 1) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `gradual({ every }) needs a whole number >= 1, got ${every}`,
    );
  }
  const name = `gradual(every ${every})`;
  return {
    name,
    plan: (model) => {
      const count = Math.min(
        options.maxBlocks ?? Number.POSITIVE_INFINITY,
        trunkBlockNames(model).length,
      );
      const stages = [headsOnly().plan(model)];
      const starts = [0];
      for (let n = 1; n <= count; n++) {
        stages.push(lastBlocks(n).plan(model));
        starts.push(n * every);
      }
      return scheduledPlan(name, starts, stages);
    },
  };
}
