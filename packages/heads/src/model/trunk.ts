import type { ApplyOptions, BlockInfo, Param, Shape } from '@graft/core';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * What a multi-task model needs of its shared trunk: core's `BlockNetwork` (built-in
 * architectures) and `Backbone` (loaded or shipped models) both qualify.
 *
 * @example
 * ```ts
 * const trunk: Trunk = pretrainedBackbone(); // or a BlockNetwork from createBackbone(...)
 * const model = multiTaskModel({ backbone: trunk, tasks });
 * ```
 */
export interface Trunk {
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  /** Blocks in order, input to output, each listing its layers. */
  readonly blocks: readonly BlockInfo[];
  readonly params: readonly Param[];
  outputsAt(
    x: tf.Tensor,
    names: readonly string[],
    options: ApplyOptions,
  ): Record<string, tf.Tensor>;
  /**
   * The layer called `name` (core's `BlockNetwork` and `Backbone` have it): its Keras class
   * tells whether the layer behaves differently in training (batch norm, dropout), which
   * decides whether trunk features can be cached.
   */
  layer?(name: string): { readonly className: string };
  /** The layer whose output is the trunk's output (Backbone). Default: the last block's. */
  readonly outputLayer?: string;
  /** Per-layer output shapes (Backbone), so attaching a head needs no trial run. */
  readonly nodes?: readonly {
    readonly layer: { readonly name: string };
    readonly outputShape: Shape;
  }[];
}
