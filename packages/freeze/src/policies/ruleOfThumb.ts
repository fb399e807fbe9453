import { GraftError } from '@graft/errors';
import { isHeadParam, trunkBlockNames } from '../freezableModel';
import type { FreezePlan } from '../freezePlan';
import type { FreezePolicy } from '../freezePolicy';
import { all } from './all';
import { fineTune } from './fineTune';
import { headsOnly } from './headsOnly';
import { lastBlocks } from './unfreezeBlocks';

/**
 * Options of {@link ruleOfThumb}: how many labelled examples there are (per task, or one
 * number), and whether the tasks resemble the pre-training task.
 *
 * @example
 * ```ts
 * const options: RuleOfThumbOptions = {
 *   labelled: { presence: 800, carCount: 300 },
 *   similarToPretraining: false,
 * };
 * const plan = ruleOfThumb(options).plan(model);
 * ```
 */
export interface RuleOfThumbOptions {
  /** Labelled examples: one number, or per task (the trunk sees the largest). */
  labelled: number | Readonly<Record<string, number>>;
  /**
   * Whether the tasks resemble the pre-training task (same kind of images and features).
   * `false`: from `DISSIMILAR_RETRAIN_ALL` labelled images on, retrain everything; below
   * that, one step toward retraining more. Unknown changes nothing.
   */
  similarToPretraining?: boolean;
}

/**
 * Below this many labelled images the trunk stays fixed whatever its size.
 *
 * @example
 * ```ts
 * if (labelled < TINY_DATASET) console.log('the trunk stays fixed: only the heads train');
 * ```
 */
export const TINY_DATASET = 150;
/**
 * Labelled images per million trunk parameters below which only the last blocks retrain.
 *
 * @example
 * ```ts
 * // With a 2.3M-parameter trunk, below 2,300 labelled images only the last blocks retrain.
 * const lastBlocksBelow = SMALL_DATA_PER_MPARAM * 2.3;
 * ```
 */
export const SMALL_DATA_PER_MPARAM = 1_000;
/**
 * ... below which `fineTune` (warm-up, then everything at decayed rates) is used; above: `all`.
 *
 * @example
 * ```ts
 * // With a 2.3M-parameter trunk, above 23,000 labelled images everything retrains.
 * const allFrom = MEDIUM_DATA_PER_MPARAM * 2.3;
 * ```
 */
export const MEDIUM_DATA_PER_MPARAM = 10_000;
/**
 * With tasks unlike the pre-training task, from this many labelled images on every parameter
 * retrains: frozen features that do not fit the task preserve nothing worth keeping. Measured
 * by the freeze-policy experiment (see the README): on driving scenes with the shipped trunk
 * (pre-trained on shapes), `all()` beat every partly frozen policy from 50 images on.
 *
 * @example
 * ```ts
 * const plan = ruleOfThumb({ labelled: 80, similarToPretraining: false }).plan(model);
 * // plan.policy === 'ruleOfThumb -> all', since 80 >= DISSIMILAR_RETRAIN_ALL
 * ```
 */
export const DISSIMILAR_RETRAIN_ALL = 50;

type Choice = 'headsOnly' | 'lastBlocks(2)' | 'fineTune' | 'all';
const LADDER: readonly Choice[] = ['headsOnly', 'lastBlocks(2)', 'fineTune', 'all'];

/**
 * The source notes' rule of thumb as code: with a small dataset retrain only the last layer
 * (or the last one or two), with a lot of data retrain everything. "Small" is measured against
 * the trunk: labelled images per million trunk parameters, so a bigger trunk needs more data
 * before its early blocks are opened. Thresholds are exported and justified in the README;
 * `explain()` says which rule fired and why.
 *
 * @example
 * ```ts
 * const plan = ruleOfThumb({ labelled: 64 }).plan(model);
 * plan.policy; // 'ruleOfThumb -> headsOnly' for so few images
 * console.table(plan.explain()); // says which rule fired and why
 * ```
 */
export function ruleOfThumb(options: RuleOfThumbOptions): FreezePolicy {
  const counts =
    typeof options.labelled === 'number' ? { all: options.labelled } : { ...options.labelled };
  const values = Object.values(counts);
  if (values.length === 0 || values.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new GraftError('INVALID_ARGUMENT', 'ruleOfThumb needs non-negative labelled counts', {
      where: JSON.stringify(options.labelled),
    });
  }
  return {
    name: 'ruleOfThumb',
    plan: (model) => {
      const n = Math.max(...values);
      const nMin = Math.min(...values);
      const trunkParams = model.params
        .filter((p) => !isHeadParam(model, p.block))
        .reduce((s, p) => s + p.variable.size, 0);
      const perMParam = n / Math.max(trunkParams / 1e6, 1e-6);
      let step: number;
      let why: string;
      if (n < TINY_DATASET) {
        step = 0;
        why = `${n} labelled images < ${TINY_DATASET}: too few to move any trunk weight safely`;
      } else if (perMParam < SMALL_DATA_PER_MPARAM) {
        step = 1;
        why = `${n} labelled images for a ${(trunkParams / 1e6).toFixed(2)}M-parameter trunk (${Math.round(perMParam)}/M < ${SMALL_DATA_PER_MPARAM}): small data, retrain the last one or two blocks`;
      } else if (perMParam < MEDIUM_DATA_PER_MPARAM) {
        step = 2;
        why = `${n} labelled images (${Math.round(perMParam)}/M trunk params < ${MEDIUM_DATA_PER_MPARAM}): mid-sized data, warm up heads then fine-tune all at decayed rates`;
      } else {
        step = 3;
        why = `${n} labelled images (${Math.round(perMParam)}/M trunk params >= ${MEDIUM_DATA_PER_MPARAM}): a lot of data, retrain every parameter`;
      }
      if (options.similarToPretraining === false && step < LADDER.length - 1) {
        if (n >= DISSIMILAR_RETRAIN_ALL) {
          step = LADDER.length - 1;
          why += `; but the tasks are unlike the pre-training task and ${n} >= ${DISSIMILAR_RETRAIN_ALL} labelled images: retrain everything`;
        } else {
          step += 1;
          why += '; tasks unlike the pre-training task, so one step more retraining';
        }
      }
      if (nMin < n / 4 && values.length > 1) {
        why += `; note: the scarcest task has only ${nMin} labels`;
      }
      const blockCount = trunkBlockNames(model).length;
      const choice = LADDER[step] as Choice;
      const policy =
        choice === 'headsOnly'
          ? headsOnly()
          : choice === 'lastBlocks(2)'
            ? lastBlocks(Math.min(2, blockCount))
            : choice === 'fineTune'
              ? fineTune()
              : all();
      return withRationale(policy.plan(model), `ruleOfThumb -> ${policy.name}`, why);
    },
  };
}

/** The same plan, named after the rule, with the rule's reason on every row and stage. */
function withRationale(plan: FreezePlan, policy: string, why: string): FreezePlan {
  const wrapped: FreezePlan = {
    policy,
    params: plan.params,
    batchNorm: plan.batchNorm,
    changesAt: plan.changesAt,
    at: (epoch) => {
      const stage = plan.at(epoch);
      return stage === plan ? wrapped : withRationale(stage, policy, why);
    },
    explain: () => plan.explain().map((row) => ({ ...row, reason: `${row.reason} [${why}]` })),
  };
  return wrapped;
}
