import { GraftError } from '@graft/errors';
import { type FreezableModel, layerOf } from './freezableModel';

/**
 * How one parameter trains.
 *
 * @example
 * ```ts
 * const p: ParamPlan | undefined = lastBlocks(1).plan(model).params.get('Conv_1/kernel');
 * if (p?.trainable) console.log(`trains at ${p.lrScale}x the learning rate: ${p.reason}`);
 * ```
 */
export interface ParamPlan {
  trainable: boolean;
  /** Multiplies the optimizer's learning rate; 0 when frozen. */
  lrScale: number;
  /** Why, in words: shown by `explain()`. */
  reason: string;
}

/**
 * How a batch-norm layer behaves in training: `inference` uses (and keeps) its moving
 * statistics — the Keras behaviour for frozen layers, so a frozen block computes exactly what
 * it computed before; `train` normalises with batch statistics and updates them.
 *
 * @example
 * ```ts
 * const plan = headsOnly().plan(model);
 * const mode: BatchNormMode | undefined = plan.batchNorm.get('Conv_1_bn'); // 'inference'
 * ```
 */
export type BatchNormMode = 'inference' | 'train';

/**
 * One row of `explain()`: consecutive parameters of a block that train the same way.
 *
 * @example
 * ```ts
 * for (const row of ruleOfThumb({ labelled: 500 }).plan(model).explain()) {
 *   console.log(row.block, row.params, row.trainable, row.lrScale, row.reason);
 * }
 * ```
 */
export interface ExplainRow {
  block: string;
  /** Parameter count (scalars). */
  params: number;
  trainable: boolean;
  lrScale: number;
  reason: string;
  /** The parameters this row covers; every parameter is in exactly one row. */
  paramNames: string[];
}

/**
 * Which parameters train and how: per parameter `{trainable, lrScale, reason}`, per batch-norm
 * layer its mode, an optional per-epoch schedule (`at`), and `explain()` for a person. Made by a
 * {@link FreezePolicy}; the `Trainer` takes it as `plan`.
 *
 * @example
 * ```ts
 * const plan = fineTune({ warmupEpochs: 1 }).plan(model);
 * plan.params.get('Conv_1/kernel'); // { trainable: false, lrScale: 0, reason: '...' }
 * plan.at(1).policy; // the stage in force from epoch 1
 * console.table(plan.explain());
 * ```
 */
export interface FreezePlan {
  /** The policy that made the plan, e.g. `lastBlocks(2)`. */
  readonly policy: string;
  readonly params: ReadonlyMap<string, ParamPlan>;
  /** Per batch-norm layer name. */
  readonly batchNorm: ReadonlyMap<string, BatchNormMode>;
  /**
   * The plan in force at a (0-based) epoch. Static plans return themselves; schedules
   * (`gradual`, `fineTune`) return the stage for that epoch.
   */
  at(epoch: number): FreezePlan;
  /** Epochs at which `at()` changes, ascending (empty for static plans). */
  readonly changesAt: readonly number[];
  /** Rows a person reads: block, parameter count, trainable, learning-rate scale, reason. */
  explain(): ExplainRow[];
}

/**
 * Decides each parameter; batch-norm modes follow from the decisions.
 *
 * @example
 * ```ts
 * const decide: ParamDecider = (p) =>
 *   p.kind === 'gamma' || p.kind === 'beta'
 *     ? { trainable: true, lrScale: 1, reason: 'batch-norm affine' }
 *     : { trainable: false, lrScale: 0, reason: 'frozen' };
 * const plan = staticPlan(model, 'bnAffineOnly', decide);
 * ```
 */
export type ParamDecider = (param: FreezableModel['params'][number]) => ParamPlan;

/**
 * Builds a static plan. A batch-norm layer trains (batch statistics) when any of its
 * parameters (gamma/beta) trains, else it runs in inference mode. A plan that trains nothing
 * is refused: training it would silently do nothing.
 *
 * @example
 * ```ts
 * const plan = staticPlan(model, 'everything', () => ({
 *   trainable: true,
 *   lrScale: 1,
 *   reason: 'all parameters train',
 * }));
 * ```
 */
export function staticPlan(
  model: FreezableModel,
  policy: string,
  decide: ParamDecider,
): FreezePlan {
  const params = new Map<string, ParamPlan>();
  for (const p of model.params) params.set(p.name, decide(p));
  if (![...params.values()].some((d) => d.trainable)) {
    throw new GraftError('FREEZE_NOTHING_TRAINABLE', `${policy} leaves no parameter trainable`, {
      where: `a model with ${model.params.length} parameters`,
      hint: 'Attach at least one head, or choose a policy that unfreezes part of the trunk.',
    });
  }
  const batchNorm = new Map<string, BatchNormMode>();
  for (const p of model.params) {
    if (p.kind !== 'gamma' && p.kind !== 'beta' && p.kind !== 'movingMean') continue;
    const layer = layerOf(p.name);
    const trains = p.kind !== 'movingMean' && (params.get(p.name)?.trainable ?? false);
    if (trains || !batchNorm.has(layer)) batchNorm.set(layer, trains ? 'train' : 'inference');
  }
  const plan: FreezePlan = {
    policy,
    params,
    batchNorm,
    at: () => plan,
    changesAt: [],
    explain: () => explainRows(model, params),
  };
  return plan;
}

/**
 * A plan that changes between epochs: `stages[i]` is in force from epoch `starts[i]` on.
 * `starts[0]` must be 0.
 *
 * @example
 * ```ts
 * const plan = scheduledPlan('headsThenAll', [0, 2], [headsOnly().plan(model), all().plan(model)]);
 * plan.at(0).policy; // 'headsOnly'
 * plan.at(3).policy; // 'all'
 * ```
 */
export function scheduledPlan(policy: string, starts: number[], stages: FreezePlan[]): FreezePlan {
  if (starts[0] !== 0 || starts.length !== stages.length) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      'A schedule starts at epoch 0 with one stage per start',
      {
        where: policy,
      },
    );
  }
  const at = (epoch: number): FreezePlan => {
    let i = 0;
    while (i + 1 < starts.length && (starts[i + 1] as number) <= epoch) i++;
    return stages[i] as FreezePlan;
  };
  const first = stages[0] as FreezePlan;
  return {
    policy,
    params: first.params,
    batchNorm: first.batchNorm,
    at,
    changesAt: starts.slice(1),
    explain: () => {
      // The epoch-0 stage, with each row saying when it changes.
      const later = starts
        .slice(1)
        .map((s, i) => `epoch ${s}: ${(stages[i + 1] as FreezePlan).policy}`);
      return first.explain().map((row) => ({
        ...row,
        reason: later.length > 0 ? `${row.reason}; then ${later.join(', ')}` : row.reason,
      }));
    },
  };
}

function explainRows(model: FreezableModel, params: ReadonlyMap<string, ParamPlan>): ExplainRow[] {
  const rows: ExplainRow[] = [];
  for (const p of model.params) {
    const d = params.get(p.name) as ParamPlan;
    const last = rows[rows.length - 1];
    if (
      last &&
      last.block === p.block &&
      last.trainable === d.trainable &&
      last.lrScale === d.lrScale &&
      last.reason === d.reason
    ) {
      last.params += p.variable.size;
      last.paramNames.push(p.name);
    } else {
      rows.push({
        block: p.block,
        params: p.variable.size,
        trainable: d.trainable,
        lrScale: d.lrScale,
        reason: d.reason,
        paramNames: [p.name],
      });
    }
  }
  return rows;
}
