import type { BlockNetwork } from '../nn/blockNetwork';
import type { AnyLayer, Shape } from '../nn/module';
import type { Preprocessing } from './preprocessing';

/**
 * One layer of a backbone's graph: the layer, what it reads, what it gives.
 *
 * @example
 * ```ts
 * for (const node of trunk.nodes) console.log(node.layer.name, node.inputs, node.outputShape);
 * ```
 */
export interface BackboneNode {
  readonly layer: AnyLayer;
  /** Names of the layers (or the input) whose outputs it reads, in order. */
  readonly inputs: readonly string[];
  /** Per-example output shape. */
  readonly outputShape: Shape;
  /** Block the layer belongs to. */
  readonly block: string;
  /** Cumulative spatial reduction of its output relative to the input image. */
  readonly stride: number;
}

/**
 * A feature extractor that heads attach to and freezing policies address: a functional graph
 * of Keras-equivalent layers, grouped into ordered blocks (stages), with named parameters.
 * Both loaded models (`loadBackbone`) and built-in ones (`mobileNetV2`) are Backbones.
 *
 * @example
 * ```ts
 * const trunk: Backbone = await loadBackbone('models/mobilenet_v2/model.json', { cutAt: 'out_relu' });
 * trunk.blocks.map((b) => b.name); // ['stem', 'block_0', ..., 'conv_head']
 * const features = trunk.apply(x, { training: false });
 * ```
 */
export interface Backbone extends BlockNetwork {
  /** Name of the input (the Keras InputLayer). */
  readonly inputName: string;
  /** Name of the layer whose output `apply` returns. */
  readonly outputLayer: string;
  /** Every layer in execution order with its inputs: the graph, for export and inspection. */
  readonly nodes: readonly BackboneNode[];
  /** How to scale images for this backbone. */
  readonly preprocessing: Preprocessing;
  /**
   * The graph up to `name` (a layer or block), which becomes the output. The cut shares
   * parameters (the same variables) with this backbone: train either, dispose one.
   */
  cut(name: string): Backbone;
}
