import type { Tensor } from '@tensorflow/tfjs-core';
import type { Block } from '../nn/block';
import type { Layer, Shape } from '../nn/module';
import type { Backbone, BackboneNode } from './backbone';
import { graphBackbone } from './graphBackbone';
import { layerStride } from './layerStride';
import { defaultPreprocessing, type Preprocessing } from './preprocessing';

/**
 * Options of {@link backboneFromBlocks}: the input shape, the blocks, a description for errors,
 * and the preprocessing.
 *
 * @example
 * ```ts
 * const options: BackboneFromBlocksOptions = { inputShape: [32, 32, 3], blocks: [stem, head] };
 * ```
 */
export interface BackboneFromBlocksOptions {
  inputShape: Shape;
  blocks: readonly Block[];
  /** Used in error messages, e.g. `mobileNetV2(alpha=0.35)`. */
  description?: string;
  /** Default: graft's default (see `defaultPreprocessing`). */
  preprocessing?: Preprocessing;
  /** Name of the input. Default `input_1`, as Keras names a model's first input. */
  inputName?: string;
}

/**
 * A Backbone from a chain of blocks (each a chain of layers with an optional residual Add),
 * which is how graft's built-in architectures are written. The result is the same kind of
 * graph a loaded Keras model gives, so it cuts, exports and reloads the same way.
 *
 * @example
 * ```ts
 * const stem = new Block({
 *   name: 'stem',
 *   layers: [new Conv2D({ name: 'conv', inputChannels: 3, filters: 8, kernelSize: 3, strides: 2, padding: 'same', seed: 1 }), new ReLU({ name: 'relu' })],
 *   stride: 2,
 * });
 * const trunk = backboneFromBlocks({ inputShape: [32, 32, 3], blocks: [stem] });
 * ```
 */
export function backboneFromBlocks(options: BackboneFromBlocksOptions): Backbone {
  const inputName = options.inputName ?? 'input_1';
  const nodes: BackboneNode[] = [];
  let previous = inputName;
  let shape: Shape = options.inputShape;
  let stride = 1;
  for (const block of options.blocks) {
    const blockInput = previous;
    const blockInputShape = shape;
    const add = (layer: BackboneNode['layer'], inputs: string[], outputShape: Shape) => {
      stride *= layerStride(layer);
      nodes.push({ layer, inputs, outputShape, block: block.name, stride });
      previous = layer.name;
      shape = outputShape;
    };
    for (const layer of block.layers) add(layer, [previous], layer.outputShape(shape));
    if (block.shortcut) {
      const shortcut: Layer<Tensor[]> = block.shortcut;
      add(shortcut, [blockInput, previous], shortcut.outputShape([blockInputShape, shape]));
    }
  }
  return graphBackbone({
    inputName,
    inputShape: options.inputShape,
    nodes,
    outputLayer: previous,
    blockOrder: options.blocks.map((b) => b.name),
    preprocessing: options.preprocessing ?? defaultPreprocessing(options.inputShape),
    description: options.description ?? 'backbone',
  });
}
