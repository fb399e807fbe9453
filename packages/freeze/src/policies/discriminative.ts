import { GraftError } from '@graft/errors';
import { isHeadParam, trunkBlockNames } from '../freezableModel';
import { staticPlan } from '../freezePlan';
import type { FreezePolicy } from '../freezePolicy';
import { all } from './all';

/**
 * Options of {@link discriminative}: the per-block learning-rate decay, and which parameters
 * train at all.
 *
 * @example
 * ```ts
 * const options: DiscriminativeOptions = { decay: 0.5, base: lastBlocks(3) };
 * const plan = discriminative(options).plan(model);
 * ```
 */
export interface DiscriminativeOptions {
  /** Each block back from the last trainable one learns `decay` times as fast. Default 0.7. */
  decay?: number;
  /** Which parameters train at all. Default `all()`. */
  base?: FreezePolicy;
}

/**
 * Layer-wise learning-rate decay (ULMFiT; fastai's `slice(lo, hi)`): early blocks hold
 * generic features worth keeping, so they move slower than late blocks and heads.
 *
 * @example
 * ```ts
 * // Last open block at 1x, the one before at 0.7x, then 0.49x, ...
 * const plan = discriminative({ decay: 0.7 }).plan(model);
 * ```
 */
export function discriminative(options: DiscriminativeOptions = {}): FreezePolicy {
  const decay = options.decay ?? 0.7;
  if (!(decay > 0 && decay <= 1)) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `discriminative decay must be in (0, 1], got ${decay}`,
    );
  }
  const base = options.base ?? all();
  const name = `discriminative(${base.name}, decay ${decay})`;
  return {
    name,
    plan: (model) => {
      const basePlan = base.plan(model);
      const order = trunkBlockNames(model);
      const trainableBlocks = order.filter((b) =>
        model.params.some((p) => p.block === b && basePlan.params.get(p.name)?.trainable),
      );
      const depth = new Map(trainableBlocks.map((b, i) => [b, trainableBlocks.length - 1 - i]));
      return staticPlan(model, name, (p) => {
        const d = basePlan.params.get(p.name);
        if (!d?.trainable || isHeadParam(model, p.block))
          return d ?? { trainable: false, lrScale: 0, reason: 'frozen' };
        const k = depth.get(p.block) ?? 0;
        const lrScale = d.lrScale * decay ** k;
        return { trainable: true, lrScale, reason: `${d.reason}; lr x${decay}^${k}` };
      });
    },
  };
}
