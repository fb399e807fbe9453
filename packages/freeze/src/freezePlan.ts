import { GraftError } from '@graft/errors';
import { type FreezableModel, layerOf } from './freezableModel';

/** How one parameter trains. */
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
 */
export type BatchNormMode = 'inference' | 'train';

/** One row of `explain()`: consecutive parameters of a block that train the same way. */
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

/** Decides each parameter; batch-norm modes follow from the decisions. */
export type ParamDecider = (param: FreezableModel['params'][number]) => ParamPlan;

/**
 * Builds a static plan. A batch-norm layer trains (batch statistics) when any of its
 * parameters (gamma/beta) trains, else it runs in inference mode. A plan that trains nothing
 * is refused: training it would silently do nothing.
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
