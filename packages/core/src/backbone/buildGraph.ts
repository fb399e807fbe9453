import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import type { AnyLayer, Shape } from '../nn/module';
import type { Param } from '../nn/param';
import type { BackboneNode } from './backbone';
import { type BlockGrouping, type GroupingNode, groupIntoBlocks } from './blockGrouping';
import { kerasLayerCodec } from './keras/kerasLayerCodecs';
import type { KerasLayerSpec, KerasModelSpec } from './keras/kerasTopology';
import { layerStride } from './layerStride';
import { didYouMean } from './nearNames';
import type { DecodedWeight } from './weightsManifest';

export interface BuildGraphOptions {
  /** Per-example input shape to build for; default the model's own. */
  inputShape?: readonly number[];
  /** Layers to build (with everything they depend on). */
  outputs: readonly string[];
  /** Layers whose ancestors are grouped into blocks; other built layers go to `headBlocks`. */
  groupingRoots: readonly string[];
  grouping: BlockGrouping;
  /** Block of layers outside the grouped part (heads of a graft export). Default `head`. */
  headBlocks?: ReadonlyMap<string, string>;
  /** For messages: the model.json path or URL. */
  where: string;
}

export interface BuiltGraph {
  inputName: string;
  inputShape: [number, number, number];
  nodes: BackboneNode[];
  blockOrder: string[];
  /** How blocks were found (names or structure). */
  groupingMethod: string;
}

const POOLING = new Set(['MaxPooling2D', 'AveragePooling2D']);

/**
 * Builds the layers of a Keras model spec that `outputs` need, with output shapes, strides
 * and blocks, and loads their weights. Every layer class is checked before anything is
 * built, so an unsupported layer is reported even when it comes after a bad weight.
 */
export function buildGraph(
  spec: KerasModelSpec,
  weights: ReadonlyMap<string, DecodedWeight>,
  options: BuildGraphOptions,
): BuiltGraph {
  const byName = new Map(spec.layers.map((l) => [l.name, l]));
  const needed = ancestors(options.outputs, byName);
  const layers = spec.layers.filter((l) => needed.has(l.name) && l.name !== spec.input);
  for (const l of layers) {
    if (l.className === 'InputLayer') {
      throw new GraftError('LAYER_UNSUPPORTED', 'A second InputLayer inside the model', {
        where: `layer "${l.name}" (InputLayer)`,
      });
    }
    kerasLayerCodec(l.className, l.name);
  }

  const grouped = ancestors(options.groupingRoots, byName);
  const groupingNodes: GroupingNode[] = spec.layers
    .filter((l) => grouped.has(l.name) && l.name !== spec.input)
    .map((l) => groupingNode(l));
  const assignment = groupIntoBlocks(groupingNodes, spec.input, options.grouping, options.where);

  const inputShape = resolveInputShape(spec, options);
  const shapes = new Map<string, Shape>([[spec.input, inputShape]]);
  const strides = new Map<string, number>([[spec.input, 1]]);
  const nodes: BackboneNode[] = [];
  const created: Param[] = [];
  try {
    for (const l of layers) {
      const block = assignment.blockOf.get(l.name) ?? options.headBlocks?.get(l.name) ?? 'head';
      const inputShapes = l.inbound.map((p) => shapes.get(p) as Shape);
      const codec = kerasLayerCodec(l.className, l.name);
      const layer = codec.fromKeras({ name: l.name, block, config: l.config, inputShapes });
      created.push(...layer.params());
      const outputShape = codec.merges
        ? (layer.outputShape as (s: Shape[]) => Shape)(inputShapes)
        : (layer.outputShape as (s: Shape) => Shape)(inputShapes[0] ?? []);
      assertNonEmpty(l, outputShape, inputShape, spec, options);
      const stride = Math.max(...l.inbound.map((p) => strides.get(p) ?? 1)) * layerStride(layer);
      shapes.set(l.name, outputShape);
      strides.set(l.name, stride);
      loadWeights(layer, weights, options, inputShape);
      // Keras's per-layer `trainable: false` (a layer frozen when the model was saved).
      if (l.config.raw('trainable') === false) for (const p of layer.params()) p.trainable = false;
      nodes.push({ layer, inputs: l.inbound, outputShape, block, stride });
    }
  } catch (error) {
    for (const p of created) p.variable.dispose();
    throw error;
  }
  const blockOrder = [...assignment.order];
  for (const node of nodes) if (!blockOrder.includes(node.block)) blockOrder.push(node.block);
  return {
    inputName: spec.input,
    inputShape,
    nodes,
    blockOrder,
    groupingMethod: assignment.method,
  };
}

/**
 * Grouping reads configs without building, and also covers layers past the cut, which may
 * be of classes graft does not run (a custom classifier): the stride is read generically.
 */
function groupingNode(l: KerasLayerSpec): GroupingNode {
  let stride = 1;
  try {
    if (l.config.has('strides')) stride = l.config.intPair('strides')[0];
    else if (POOLING.has(l.className)) stride = l.config.intPair('pool_size', 2)[0];
  } catch {
    // A malformed stride is reported when the layer is built, if it is kept.
  }
  const downsamples = stride > 1 ? (POOLING.has(l.className) ? 'pool' : 'conv') : undefined;
  return { name: l.name, inputs: l.inbound, ...(downsamples ? { downsamples } : {}) };
}

function ancestors(
  names: readonly string[],
  byName: ReadonlyMap<string, KerasLayerSpec>,
): Set<string> {
  const seen = new Set<string>();
  const stack = [...names];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    stack.push(...(byName.get(name)?.inbound ?? []));
  }
  return seen;
}

function resolveInputShape(
  spec: KerasModelSpec,
  options: BuildGraphOptions,
): [number, number, number] {
  const model = spec.inputShape;
  const where = `${options.where} input "${spec.input}"`;
  const modelText = model ? `[${model.map((d) => d ?? 'any').join(', ')}]` : 'unspecified';
  const given = options.inputShape;
  if (given) {
    const ok = given.length === 3 && given.every((d) => Number.isInteger(d) && d >= 1);
    if (!ok) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `inputShape must be [height, width, channels] of positive integers, got [${given.join(', ')}]`,
        {
          where,
          hint: `The model takes ${modelText}.`,
        },
      );
    }
    if (model && (model.length !== 3 || (model[2] !== null && model[2] !== given[2]))) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `The model takes input ${modelText}, not [${given.join(', ')}]`,
        {
          where,
          hint: 'Height and width may change (the convolutional part adapts); the channel count may not.',
        },
      );
    }
    return [given[0] as number, given[1] as number, given[2] as number];
  }
  if (model?.length !== 3 || model.some((d) => d === null)) {
    throw new GraftError(
      'SHAPE_MISMATCH',
      `The model's input shape is ${modelText}; graft needs [height, width, channels]`,
      {
        where,
        hint: 'Pass inputShape, e.g. loadBackbone(source, { inputShape: [224, 224, 3] }).',
      },
    );
  }
  return model as [number, number, number];
}

function assertNonEmpty(
  l: KerasLayerSpec,
  outputShape: Shape,
  inputShape: Shape,
  spec: KerasModelSpec,
  options: BuildGraphOptions,
): void {
  if (outputShape.every((d) => Number.isInteger(d) && d >= 1)) return;
  throw new GraftError(
    'SHAPE_MISMATCH',
    `Input [${inputShape.join(', ')}] is too small: layer "${l.name}" would output [${outputShape.join(', ')}]`,
    {
      where: `${options.where} layer "${l.name}" (${l.className})`,
      hint: `Use a larger input${spec.inputShape ? ` (the model was made for [${spec.inputShape.map((d) => d ?? 'any').join(', ')}])` : ''}.`,
    },
  );
}

/**
 * Finds each parameter's weight by name: `<layer>/<weight>` exactly (a `:0` suffix and
 * enclosing scopes such as `model/` tolerated), or Keras 3's `<layer>/<index>`.
 */
function loadWeights(
  layer: AnyLayer,
  weights: ReadonlyMap<string, DecodedWeight>,
  options: BuildGraphOptions,
  inputShape: Shape,
): void {
  layer.params().forEach((param, index) => {
    const weight =
      weights.get(param.name) ??
      weights.get(`${layer.name}/${index}`) ??
      uniqueSuffixMatch(weights, `/${param.name}`);
    const where = `${options.where} layer "${layer.name}" (${layer.className})`;
    if (!weight) {
      const prefix = [...weights.keys()].filter((k) => k.startsWith(`${layer.name}/`));
      throw new GraftError(
        'WEIGHTS_MISMATCH',
        `No weight "${param.name}" in the weights manifest`,
        {
          where,
          hint:
            prefix.length > 0
              ? `The manifest has ${prefix.join(', ')} for this layer.`
              : `${didYouMean(param.name, weights.keys())} Every layer with weights needs them in the manifest.`.trim(),
        },
      );
    }
    const expected = param.variable.shape;
    if (!tf.util.arraysEqual(weight.shape, expected)) {
      const changedInput = options.inputShape !== undefined;
      throw new GraftError(
        changedInput ? 'SHAPE_MISMATCH' : 'WEIGHTS_MISMATCH',
        `Weight "${weight.name}" has shape [${weight.shape.join(', ')}] but the layer needs [${expected.join(', ')}]`,
        {
          where,
          hint: changedInput
            ? `With input [${inputShape.join(', ')}] this layer sees other sizes than it was trained on; keep the model's input shape or cut before this layer.`
            : 'The weights do not belong to this topology.',
        },
      );
    }
    tf.tidy(() => {
      param.variable.assign(tf.tensor(weight.values, weight.shape, 'float32'));
    });
  });
}

function uniqueSuffixMatch(
  weights: ReadonlyMap<string, DecodedWeight>,
  suffix: string,
): DecodedWeight | undefined {
  let found: DecodedWeight | undefined;
  for (const [name, w] of weights) {
    if (!name.endsWith(suffix)) continue;
    if (found) return undefined;
    found = w;
  }
  return found;
}
