import type * as tf from '@tensorflow/tfjs-core';
import type { Param } from './param';

/**
 * Per-example shape, without the batch dimension: `[height, width, channels]` or `[units]`.
 *
 * @example
 * ```ts
 * const shape: Shape = pretrainedBackbone().outputShape; // e.g. [2, 2, 1280]
 * ```
 */
export type Shape = readonly number[];

/**
 * How a module runs: training mode (batch statistics, dropout) or inference mode, and
 * optionally a batch-norm mode per layer (how a freeze plan keeps frozen layers on their
 * moving statistics while the rest trains).
 *
 * @example
 * ```ts
 * const options: ApplyOptions = { training: false };
 * const y = trunk.apply(x, options);
 * ```
 */
export interface ApplyOptions {
  /**
   * Training mode: batch norm normalises with batch statistics and updates its moving
   * statistics. Inference mode uses the moving statistics and changes nothing.
   */
  training: boolean;
  /**
   * Per batch-norm layer name, how it runs when `training` is true: `inference` keeps a
   * frozen layer's moving statistics (a freeze plan's choice for frozen blocks). Layers not
   * named follow `training`.
   */
  batchNormModes?: ReadonlyMap<string, 'train' | 'inference'>;
}

/**
 * Something with named parameters that maps a batch to a batch. `I` is the input: one tensor
 * for most layers, a list for merges such as Add.
 *
 * @example
 * ```ts
 * const m: Module = new Dense({ name: 'd', inputUnits: 4, units: 2, seed: 1 });
 * m.params().length; // 2: kernel and bias
 * ```
 */
export interface Module<I extends tf.Tensor | tf.Tensor[] = tf.Tensor> {
  readonly name: string;
  /** Own parameters, in a stable order (Keras weight order for layers). */
  params(): Param[];
  /** Batched input -> batched output. Intermediate tensors are released. */
  apply(x: I, options: ApplyOptions): tf.Tensor;
  /** Output shape for an input shape, both per example (no batch dimension). */
  outputShape(input: I extends tf.Tensor[] ? Shape[] : Shape): Shape;
}

/**
 * Keras class names of the layers graft builds; a loader and an exporter map on these.
 *
 * @example
 * ```ts
 * const classes = new Set<KerasLayerClass>(trunk.nodes.map((n) => n.layer.className));
 * ```
 */
export type KerasLayerClass =
  | 'Conv2D'
  | 'DepthwiseConv2D'
  | 'BatchNormalization'
  | 'ReLU'
  | 'Add'
  | 'ZeroPadding2D'
  | 'GlobalAveragePooling2D'
  | 'MaxPooling2D'
  | 'AveragePooling2D'
  | 'Dense'
  // Loaded from Keras models (src/backbone/layers) and Activation (nn/activation.ts).
  | 'Activation'
  | 'SeparableConv2D'
  | 'Multiply'
  | 'Concatenate'
  | 'GlobalMaxPooling2D'
  | 'Reshape'
  | 'Flatten'
  | 'Dropout'
  | 'Rescaling';

/**
 * A single Keras-equivalent layer: a module plus the class and resolved config Keras needs.
 *
 * @example
 * ```ts
 * const layer: Layer = new ReLU6({ name: 'out_relu' });
 * layer.className; // 'ReLU'
 * ```
 */
export interface Layer<I extends tf.Tensor | tf.Tensor[] = tf.Tensor> extends Module<I> {
  readonly className: KerasLayerClass;
}

/**
 * A layer of either arity, as returned by lookups by name.
 *
 * @example
 * ```ts
 * const layer: AnyLayer = trunk.layer('block_1_add'); // an Add takes a list of inputs
 * ```
 */
export type AnyLayer = Layer<tf.Tensor> | Layer<tf.Tensor[]>;
