import { GraftError } from '@graft/errors';
import * as tf from '@tensorflow/tfjs-core';
import { maskedHuber, maskedMeanSquaredError } from '../losses/maskedRegressionLosses';
import {
  checkMaskValues,
  checkNames,
  type HeadBase,
  type HeadOptions,
  resolveHeadOptions,
  shapeText,
  targetMismatch,
} from './taskHead';

/**
 * The loss of a regression head: mean squared error, or Huber with its `delta`.
 *
 * @example
 * ```ts
 * const loss: RegressionLoss = { huber: { delta: 1 } };
 * const carCount = regression({ outputs: 1, loss });
 * ```
 */
export type RegressionLoss = 'mse' | { huber: { delta: number } };

/**
 * Options of {@link regression}: how many values, their names, the loss, plus the common head
 * options.
 *
 * @example
 * ```ts
 * const options: RegressionOptions = { outputs: 2, names: ['x', 'y'], loss: 'mse' };
 * ```
 */
export interface RegressionOptions extends HeadOptions {
  /** How many values to predict. */
  outputs: number;
  /** Names for reports. Default `value` for one output, else `output0`, `output1`... */
  names?: readonly string[];
  /** Default `mse`; Huber bounds the pull of outliers. */
  loss?: RegressionLoss;
}

/**
 * Real-valued outputs (a count, a distance). Targets `[batch, outputs]` (or `[batch]` for one
 * output), mask the same shape.
 *
 * @example
 * ```ts
 * const head: RegressionHead = regression({ outputs: 1 });
 * head.outputNames; // ['value']
 * ```
 */
export interface RegressionHead extends HeadBase {
  readonly kind: 'regression';
  readonly outputs: number;
  readonly lossType: RegressionLoss;
}

/**
 * A head of real-valued outputs (counts, distances), trained with masked MSE or Huber loss.
 *
 * @example
 * ```ts
 * const carCount = regression({ outputs: 1, hidden: [32] });
 * const model = multiTaskModel({ backbone, tasks: { carCount } });
 * ```
 */
export function regression(options: RegressionOptions): RegressionHead {
  const where = 'regression head';
  const { outputs } = options;
  if (!(Number.isInteger(outputs) && outputs >= 1)) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `outputs must be a whole number >= 1, got ${outputs}`,
      { where },
    );
  }
  const names = [
    ...(options.names ??
      (outputs === 1 ? ['value'] : Array.from({ length: outputs }, (_, i) => `output${i}`))),
  ];
  checkNames(names, 'output names', where);
  if (names.length !== outputs) {
    throw new GraftError('INVALID_ARGUMENT', `${names.length} names for ${outputs} outputs`, {
      where,
    });
  }
  const lossType = options.loss ?? 'mse';
  if (lossType !== 'mse' && !(typeof lossType === 'object' && lossType.huber?.delta > 0)) {
    throw new GraftError('INVALID_ARGUMENT', "loss must be 'mse' or { huber: { delta > 0 } }", {
      where,
    });
  }
  const common = resolveHeadOptions(options, where);
  const shaped = (t: tf.Tensor) => (t.rank === 1 ? tf.reshape(t, [t.shape[0] ?? 0, 1]) : t);
  const fits = (shape: readonly number[], batch: number) =>
    tf.util.arraysEqual([...shape], [batch, outputs]) ||
    (outputs === 1 && tf.util.arraysEqual([...shape], [batch]));
  return {
    kind: 'regression',
    outputs,
    lossType,
    ...common,
    units: outputs,
    outputNames: names,
    loss: (predictions, targets, mask) =>
      tf.tidy(() =>
        lossType === 'mse'
          ? maskedMeanSquaredError(predictions, shaped(targets), shaped(mask))
          : maskedHuber(predictions, shaped(targets), shaped(mask), lossType.huber.delta),
      ),
    predict: (outputs) => tf.clone(outputs),
    checkShapes(targets, mask, batch, task) {
      for (const [name, t] of [
        ['targets', targets],
        ['mask', mask],
      ] as const) {
        if (!fits(t.shape, batch)) {
          throw targetMismatch(
            task,
            `Regression ${name} should be [${batch}, ${outputs}]${outputs === 1 ? ` or [${batch}]` : ''}, got ${shapeText(t.shape)}`,
            `The head predicts ${outputs} value(s): ${names.join(', ')}.`,
          );
        }
      }
    },
    checkValues(targets, mask, task) {
      checkMaskValues(mask, task);
      for (let i = 0; i < targets.length; i++) {
        if (mask[i] === 1 && !Number.isFinite(targets[i] as number)) {
          throw targetMismatch(
            task,
            `Labelled target ${i} is ${targets[i]}`,
            'Mark a missing value with mask 0 instead of NaN or Infinity.',
          );
        }
      }
    },
    describe: () => ({
      kind: 'regression',
      outputs,
      names,
      ...common,
      units: outputs,
      loss: lossType,
    }),
  };
}
