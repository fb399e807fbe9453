import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import type { Block } from './block';
import type { AnyLayer, ApplyOptions, Shape } from './module';
import type { Param } from './param';
import { assertUniqueParamNames, disposeParams, findParam } from './paramList';

/**
 * What a block offers to heads and freezing policies, in timm's `feature_info` terms.
 *
 * @example
 * ```ts
 * for (const b of trunk.blocks) console.log(b.name, b.outputChannels, b.stride, b.layerNames.length);
 * ```
 */
export interface BlockInfo {
  readonly name: string;
  readonly outputChannels: number;
  /** Cumulative spatial reduction at the block output relative to the network input. */
  readonly stride: number;
  /** Layers of the block in execution order. */
  readonly layerNames: readonly string[];
}

/**
 * A network made of named blocks applied one after another.
 *
 * @example
 * ```ts
 * const net: BlockNetwork = blockNetwork({ inputShape: [32, 32, 3], blocks: [stem, block1] });
 * net.outputShape; // per-example shape after the last block
 * ```
 */
export interface BlockNetwork {
  /** Per-example input shape `[height, width, channels]`. */
  readonly inputShape: Shape;
  /** Per-example output shape of the last block. */
  readonly outputShape: Shape;
  /** Blocks in order, input to output. */
  readonly blocks: readonly BlockInfo[];
  /** All parameters, block by block, in Keras weight order within each layer. */
  readonly params: readonly Param[];
  /** Batched images -> features of the last block. */
  apply(x: tf.Tensor, options: ApplyOptions): tf.Tensor;
  /**
   * Outputs of the named layers or blocks (a block's output is that of its last layer),
   * computing only as far as the deepest one. Heads attach here.
   */
  outputsAt(
    x: tf.Tensor,
    names: readonly string[],
    options: ApplyOptions,
  ): Record<string, tf.Tensor>;
  /** The layer called `name` (Keras layer name). */
  layer(name: string): AnyLayer;
  /** The parameter called `name` (`<layer>/<weight>`). */
  param(name: string): Param;
  /** Releases every parameter. The network cannot be used afterwards. */
  dispose(): void;
}

/**
 * Options of {@link blockNetwork}: the input shape, the blocks in order, and a description.
 *
 * @example
 * ```ts
 * const options: BlockNetworkOptions = { inputShape: [32, 32, 3], blocks: [stem, block1], description: 'tiny cnn' };
 * ```
 */
export interface BlockNetworkOptions {
  inputShape: Shape;
  blocks: Block[];
  /** Used in error messages, e.g. `mobileNetV2(alpha=0.35)`. */
  description?: string;
}

/**
 * Assembles blocks into a network, checking that layer and parameter names are unique.
 *
 * @example
 * ```ts
 * const net = blockNetwork({ inputShape: [32, 32, 3], blocks: [stem, block1] });
 * const features = net.apply(x, { training: false });
 * ```
 */
export function blockNetwork(options: BlockNetworkOptions): BlockNetwork {
  return new SequentialBlocks(options);
}

class SequentialBlocks implements BlockNetwork {
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  readonly blocks: readonly BlockInfo[];
  readonly params: readonly Param[];
  private readonly stages: readonly Block[];
  private readonly layers = new Map<string, AnyLayer>();
  /** Block index of every layer and block name, for `outputsAt`. */
  private readonly depth = new Map<string, number>();
  private readonly where: string;

  constructor(options: BlockNetworkOptions) {
    this.where = options.description ?? 'network';
    this.inputShape = [...options.inputShape];
    this.stages = options.blocks;
    // Parameters first: two layers sharing a name (or one layer used twice) alias weights in
    // plans and checkpoints, which is the error worth naming.
    this.params = options.blocks.flatMap((b) => b.params());
    assertUniqueParamNames(this.params, this.where);
    const infos: BlockInfo[] = [];
    let shape: Shape = this.inputShape;
    let stride = 1;
    options.blocks.forEach((block, index) => {
      this.register(block.name, index, 'block');
      const layerNames: string[] = [];
      for (const layer of block.allLayers()) {
        this.register(layer.name, index, 'layer');
        this.layers.set(layer.name, layer);
        layerNames.push(layer.name);
      }
      shape = block.outputShape(shape);
      stride *= block.stride;
      infos.push({
        name: block.name,
        outputChannels: shape[shape.length - 1] ?? 0,
        stride,
        layerNames,
      });
    });
    this.outputShape = shape;
    this.blocks = infos;
  }

  apply(x: tf.Tensor, options: ApplyOptions): tf.Tensor {
    this.assertInput(x);
    return tf.tidy(() => this.stages.reduce((y, block) => block.run(y, options), x));
  }

  outputsAt(
    x: tf.Tensor,
    names: readonly string[],
    options: ApplyOptions,
  ): Record<string, tf.Tensor> {
    this.assertInput(x);
    const wanted = new Set(names);
    let last = -1;
    for (const name of wanted) {
      const index = this.depth.get(name);
      if (index === undefined) throw this.unknownLayer(name);
      last = Math.max(last, index);
    }
    return tf.tidy(() => {
      const out: Record<string, tf.Tensor> = {};
      const keep = (name: string, t: tf.Tensor) => {
        if (wanted.has(name)) out[name] = t;
      };
      let y = x;
      for (const block of this.stages.slice(0, last + 1)) {
        y = block.run(y, options, keep, wanted);
        keep(block.name, y);
      }
      return out;
    });
  }

  layer(name: string): AnyLayer {
    const found = this.layers.get(name);
    if (!found) throw this.unknownLayer(name);
    return found;
  }

  param(name: string): Param {
    return findParam(this.params, name, this.where);
  }

  dispose(): void {
    disposeParams(this.params);
  }

  private register(name: string, blockIndex: number, what: 'block' | 'layer'): void {
    if (this.depth.has(name)) {
      throw new GraftError('LAYER_DUPLICATE', `Two blocks or layers are named "${name}"`, {
        where: this.where,
        hint: `Give every ${what} a unique name; heads and freezing plans address them by name.`,
      });
    }
    this.depth.set(name, blockIndex);
  }

  private unknownLayer(name: string): GraftError {
    const blocks = this.blocks.map((b) => b.name);
    return new GraftError('LAYER_NOT_FOUND', `No layer or block named "${name}"`, {
      where: this.where,
      hint: `Blocks: ${blocks.join(', ')}.`,
    });
  }

  private assertInput(x: tf.Tensor): void {
    const expected = this.inputShape;
    const got = x.shape.slice(1);
    if (x.rank !== expected.length + 1 || !got.every((d, i) => d === expected[i])) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `Expected input [batch, ${expected.join(', ')}], got [${x.shape.join(', ')}]`,
        { where: this.where, hint: 'Resize inputs to the shape the network was built for.' },
      );
    }
  }
}
