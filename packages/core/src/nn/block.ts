import * as tf from '@tensorflow/tfjs-core';
import type { Add } from './add';
import { fuseLayerPair } from './layerPairs';
import type { AnyLayer, ApplyOptions, Layer, Module, Shape } from './module';
import type { Param } from './param';

/**
 * Options of {@link Block}: its name, its layers, an optional residual Add, and its stride.
 *
 * @example
 * ```ts
 * const options: BlockOptions = { name: 'block_1', layers: [conv, bn, relu], stride: 2 };
 * ```
 */
export interface BlockOptions {
  /** Block name, e.g. `block_3`; the `block` of every parameter in it. */
  name: string;
  /** Layers applied in order. */
  layers: Layer[];
  /** Adds the block input to the output of `layers` (a residual connection). */
  shortcut?: Add;
  /** Spatial reduction of this block alone (product of its strides). Default 1. */
  stride?: number;
}

/**
 * Called with each layer's output as a block runs; lets callers read intermediate features.
 *
 * @example
 * ```ts
 * const seen: string[] = [];
 * const listener: LayerOutputListener = (layer, output) => seen.push(`${layer} ${output.shape}`);
 * block.run(x, { training: false }, listener);
 * ```
 */
export type LayerOutputListener = (layerName: string, output: tf.Tensor) => void;

/**
 * A named stage: a chain of layers with an optional residual Add. Models are lists of these,
 * which is what freezing policies and heads address (timm's `feature_info` idea).
 *
 * @example
 * ```ts
 * const block = new Block({ name: 'block_1', layers: [conv, bn, new ReLU6({ name: 'relu' })], stride: 1 });
 * const y = block.apply(x, { training: false });
 * ```
 */
export class Block implements Module {
  readonly name: string;
  readonly layers: readonly Layer[];
  readonly shortcut: Add | undefined;
  readonly stride: number;

  constructor(options: BlockOptions) {
    this.name = options.name;
    this.layers = options.layers;
    this.shortcut = options.shortcut;
    this.stride = options.stride ?? 1;
  }

  /**
   * Every layer, in execution order, the shortcut Add last.
   *
   * @example
   * ```ts
   * block.allLayers().map((l) => l.name); // e.g. ['block_1_expand', ..., 'block_1_add']
   * ```
   */
  allLayers(): AnyLayer[] {
    return this.shortcut ? [...this.layers, this.shortcut] : [...this.layers];
  }

  /**
   * The parameters of every layer of the block, in layer order.
   *
   * @example
   * ```ts
   * block.params().map((p) => p.name); // e.g. ['block_3_expand/kernel', 'block_3_expand_BN/gamma', ...]
   * ```
   */
  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }

  /**
   * Runs the block on a batch (tidied: only the output is kept).
   *
   * @example
   * ```ts
   * const y = block.apply(x, { training: false });
   * ```
   */
  apply(x: tf.Tensor, options: ApplyOptions): tf.Tensor {
    return tf.tidy(() => this.run(x, options));
  }

  /**
   * Applies the block, reporting every layer output to `listener` (with `wanted`, only the
   * outputs of those layers are certain to be reported: pairs of layers graft runs as one
   * step skip the first one's). Not tidied: the caller's scope owns the intermediates (so a
   * listener may keep them by returning them from a tidy).
   *
   * @example
   * ```ts
   * const features: tf.Tensor[] = [];
   * const y = tf.tidy(() => block.run(x, { training: false }, (_name, out) => { features.push(tf.keep(out)); }));
   * ```
   */
  run(
    x: tf.Tensor,
    options: ApplyOptions,
    listener?: LayerOutputListener,
    wanted?: ReadonlySet<string>,
  ): tf.Tensor {
    let y = x;
    const layers = this.layers;
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i] as Layer;
      // Two layers graft runs as one step (see fuseLayerPair), unless the first one's output
      // is reported: to a listener, every layer's is, or only those in `wanted` if given.
      const reported = listener !== undefined && (wanted === undefined || wanted.has(layer.name));
      const pair = reported ? undefined : fuseLayerPair(layer, layers[i + 1]);
      if (pair) {
        i++;
        y = pair(y, options);
        listener?.((layers[i] as Layer).name, y);
        continue;
      }
      y = layer.apply(y, options);
      listener?.(layer.name, y);
    }
    if (this.shortcut) {
      y = this.shortcut.apply([x, y], options);
      listener?.(this.shortcut.name, y);
    }
    return y;
  }

  /**
   * The per-example output shape for a per-example input shape.
   *
   * @example
   * ```ts
   * block.outputShape([16, 16, 24]); // e.g. [8, 8, 32] for a stride-2 block with 32 filters
   * ```
   */
  outputShape(input: Shape): Shape {
    return this.layers.reduce<Shape>((shape, layer) => layer.outputShape(shape), input);
  }
}
