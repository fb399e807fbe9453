import { GraftError } from '@graft/errors';
import { scheduledPlan } from '../freezePlan';
import type { FreezePolicy } from '../freezePolicy';
import { all } from './all';
import { discriminative } from './discriminative';
import { headsOnly } from './headsOnly';

/**
 * Options of {@link fineTune}: warm-up epochs with only the heads, then the layer-wise decay.
 *
 * @example
 * ```ts
 * const options: FineTuneOptions = { warmupEpochs: 2, decay: 0.8 };
 * const plan = fineTune(options).plan(model);
 * ```
 */
export interface FineTuneOptions {
  /** Epochs with only the heads training, so random heads do not wreck the trunk. Default 1. */
  warmupEpochs?: number;
  /** Layer-wise learning-rate decay after the warm-up. Default 0.7. */
  decay?: number;
}

/**
 * fastai's `fine_tune` shape, built from smaller policies: `headsOnly()` for a warm-up, then
 * `discriminative(all())`. The default for mid-sized data.
 *
 * @example
 * ```ts
 * const plan = fineTune({ warmupEpochs: 1 }).plan(model);
 * plan.changesAt; // [1]: heads only in epoch 0, then everything at decayed rates
 * ```
 */
export function fineTune(options: FineTuneOptions = {}): FreezePolicy {
  const warmup = options.warmupEpochs ?? 1;
  if (!Number.isInteger(warmup) || warmup < 0) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `fineTune warmupEpochs must be a whole number >= 0, got ${warmup}`,
    );
  }
  const rest = discriminative({ base: all(), decay: options.decay ?? 0.7 });
  const name = `fineTune(warm-up ${warmup})`;
  return {
    name,
    plan: (model) =>
      warmup === 0
        ? rest.plan(model)
        : scheduledPlan(name, [0, warmup], [headsOnly().plan(model), rest.plan(model)]),
  };
}
