import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';

/**
 * What a parameter is for. Freezing policies, optimizers and exporters branch on this rather
 * than on name suffixes, so a renamed layer never changes how its weights are treated.
 *
 * @example
 * ```ts
 * const kinds = new Set<ParamKind>(trunk.params.map((p) => p.kind)); // kernel, gamma, movingMean, ...
 * ```
 */
export type ParamKind =
  | 'kernel'
  | 'depthwiseKernel'
  | 'bias'
  | 'gamma'
  | 'beta'
  | 'movingMean'
  | 'movingVariance';

/**
 * One named tensor of a model. The list of these is the model's state: a freezing plan, an
 * optimizer, a checkpoint and a Keras export all walk the same list.
 *
 * @example
 * ```ts
 * for (const p of model.params) console.log(p.name, p.block, p.kind, p.trainable, p.variable.shape);
 * ```
 */
export interface Param {
  /** Unique, Keras-style: `<layer>/<weight>`, e.g. `block_3_expand_BN/gamma`. */
  readonly name: string;
  readonly variable: tf.Variable;
  /** The model block (stage) the parameter belongs to, e.g. `block_3`; freezing addresses these. */
  readonly block: string;
  readonly kind: ParamKind;
  /**
   * Whether optimizers update it. Reads and writes `variable.trainable`, so graft and tfjs
   * (`tf.variableGrads`, optimizers) never disagree. Moving statistics are never trainable.
   */
  trainable: boolean;
}

/**
 * What {@link createParam} needs: the name, block, kind, and whether it trains.
 *
 * @example
 * ```ts
 * const spec: ParamSpec = { name: 'scale/gamma', block: 'head:scale', kind: 'gamma' };
 * ```
 */
export interface ParamSpec {
  name: string;
  block: string;
  kind: ParamKind;
  /** Default: true, except for moving statistics, which are always false. */
  trainable?: boolean;
}

/**
 * Moving statistics are updated by batch norm in training mode, never by an optimizer.
 *
 * @example
 * ```ts
 * const learnt = trunk.params.filter((p) => !isMovingStatistic(p.kind));
 * ```
 */
export function isMovingStatistic(kind: ParamKind): boolean {
  return kind === 'movingMean' || kind === 'movingVariance';
}

/**
 * Creates a parameter whose variable starts at `initialValue()`. Tensors made while computing
 * the initial value are released; the variable keeps only its own copy of the data.
 *
 * @example
 * ```ts
 * const gamma = createParam({ name: 'scale/gamma', block: 'head:scale', kind: 'gamma' }, () => tf.ones([16]));
 * ```
 */
export function createParam(spec: ParamSpec, initialValue: () => tf.Tensor): Param {
  const frozenForever = isMovingStatistic(spec.kind);
  if (frozenForever && spec.trainable === true) {
    throw trainableMovingStatistic(spec.name);
  }
  const trainable = frozenForever ? false : (spec.trainable ?? true);
  // tf.variable shares the data of its initial value, so disposing the initial tensors (tidy)
  // leaves the variable intact. Variables are not named after the param: tfjs names are
  // global, and two models built from the same architecture share param names.
  const variable = tf.tidy(() => tf.variable(initialValue(), trainable));
  return {
    name: spec.name,
    variable,
    block: spec.block,
    kind: spec.kind,
    get trainable(): boolean {
      return variable.trainable;
    },
    set trainable(value: boolean) {
      if (frozenForever && value) throw trainableMovingStatistic(spec.name);
      variable.trainable = value;
    },
  };
}

function trainableMovingStatistic(name: string): GraftError {
  return new GraftError('INVALID_ARGUMENT', 'A batch-norm moving statistic cannot be trainable', {
    where: name,
    hint: 'Moving statistics follow the batch in training mode; freeze or unfreeze gamma and beta instead.',
  });
}
