import type * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/param';
import type { Batch } from './batch';
import type { BatchMetrics } from './batchMetrics';

/**
 * How a batch-norm layer behaves while training: `train` normalises with batch statistics and
 * updates its moving statistics; `inference` uses (and keeps) the moving statistics, the Keras
 * behaviour for frozen layers. `@graft/freeze` plans carry one per layer.
 *
 * @example
 * ```ts
 * const modes = new Map<string, BatchNormMode>([['Conv_1_bn', 'inference']]);
 * model.forward(x, { training: true, batchNormModes: modes });
 * ```
 */
export type BatchNormMode = 'train' | 'inference';

/**
 * How a model's forward pass runs: training mode, the step (dropout seeds), and batch-norm
 * modes per layer.
 *
 * @example
 * ```ts
 * const options: ForwardOptions = { training: true, step: 12 };
 * const outputs = model.forward(x, options);
 * ```
 */
export interface ForwardOptions {
  /** Training mode: dropout is on and batch norm follows `batchNormModes` (default: `train`). */
  training: boolean;
  /**
   * Global step number while training. Models seed their dropout masks from it, so the
   * several forward passes a gradient strategy may make within one step see the same masks.
   */
  step?: number;
  /** Per batch-norm layer name, its mode while training (from the plan). */
  batchNormModes?: ReadonlyMap<string, BatchNormMode>;
}

/**
 * The model's raw outputs per task name (logits or values, before any sigmoid/softmax).
 *
 * @example
 * ```ts
 * const outputs: ModelOutputs = model.forward(batch.x, { training: false }); // raw, per task
 * ```
 */
export type ModelOutputs = Readonly<Record<string, tf.Tensor>>;

/**
 * Per task name, that task's loss for a batch: a scalar over the labelled entries only (the
 * mask), 0 when the batch has none.
 *
 * @example
 * ```ts
 * const loss: TaskLossFunction = (outputs, batch) => ({
 *   carCount: maskedMeanSquaredError(outputs.carCount!, batch.targets.carCount!, batch.mask.carCount!),
 * });
 * const trainer = new Trainer({ model, loss });
 * ```
 */
export type TaskLossFunction = (
  outputs: ModelOutputs,
  batch: Batch,
) => Readonly<Record<string, tf.Scalar>>;

/**
 * What the Trainer trains: named parameters and a forward pass that returns one output per
 * task. `@graft/heads`' `multiTaskModel` implements it; so can a hand-written model.
 *
 * @example
 * ```ts
 * const model: TrainableModel = multiTaskModel({ backbone, tasks }); // or a hand-written model
 * const trainer = new Trainer({ model });
 * ```
 */
export interface TrainableModel {
  /** Task names, in order. A single-task model has one. */
  readonly tasks: readonly string[];
  /** Every parameter: trunk, heads, batch-norm statistics. */
  readonly params: readonly Param[];
  /**
   * Parameters used by one task only (its head), per task. Every other parameter is shared;
   * gradient strategies such as PCGrad and GradNorm work on the shared ones.
   */
  readonly taskParams: Readonly<Record<string, readonly Param[]>>;
  forward(x: tf.Tensor, options: ForwardOptions): ModelOutputs;
  /** The model's own masked loss, used when the Trainer is given none. */
  readonly loss?: TaskLossFunction;
  /** The model's own metrics, used by `evaluate` when the Trainer is given none. */
  metrics?(): BatchMetrics;
  /**
   * How the model splits into a shared trunk and the heads after it. With it, the Trainer can
   * run the trunk once per example and train the heads on cached features while a plan
   * freezes the whole trunk (see `TrainerOptions.featureCache`). Optional: without it every
   * step runs the whole model.
   */
  readonly featureSplit?: FeatureSplit;
}

/**
 * Per name, trunk features for a batch: `[batch, ...shape]` (what the heads read).
 *
 * @example
 * ```ts
 * const features: TrunkFeatures = split.features(x); // e.g. { out_relu: [batch, 2, 2, 1280] }
 * ```
 */
export type TrunkFeatures = Readonly<Record<string, tf.Tensor>>;

/**
 * A model's trunk / heads split: `fromFeatures(features(x), options)` must equal
 * `forward(x, options)` whenever `trunkVariesInTraining(options.batchNormModes)` is undefined
 * and no trunk parameter is trainable.
 *
 * @example
 * ```ts
 * // A model that can split lets the Trainer cache trunk features (featureCache: 'auto').
 * const features = split.features(x); // the trunk in inference mode
 * const outputs = split.fromFeatures(features, { training: true });
 * ```
 */
export interface FeatureSplit {
  /** Every parameter `features` reads (the trunk's weights and batch-norm statistics). */
  readonly trunkParams: readonly Param[];
  /** The trunk in inference mode: what the heads read, per name. */
  features(x: tf.Tensor): TrunkFeatures;
  /** The heads on given trunk features (training options apply to the heads only). */
  fromFeatures(features: TrunkFeatures, options: ForwardOptions): ModelOutputs;
  /**
   * Why the trunk's training-mode pass under these batch-norm modes would differ from
   * `features` (a batch norm in `train` mode, a dropout layer), or undefined when it would
   * not, so cached features are exact.
   */
  trunkVariesInTraining(
    batchNormModes: ReadonlyMap<string, BatchNormMode> | undefined,
  ): string | undefined;
}
