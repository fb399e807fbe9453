import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import type { BlockInfo } from '../nn/blockNetwork';
import { type FusedPair, fuseLayerPair } from '../nn/layerPairs';
import type { AnyLayer, ApplyOptions, Layer, Shape } from '../nn/module';
import type { Param } from '../nn/param';
import { assertUniqueParamNames, disposeParams, findParam } from '../nn/paramList';
import type { Backbone, BackboneNode } from './backbone';
import { didYouMean } from './nearNames';
import type { Preprocessing } from './preprocessing';

export interface GraphBackboneOptions {
  inputName: string;
  inputShape: Shape;
  /** Layers in execution order; every input a node names is the input or an earlier node. */
  nodes: readonly BackboneNode[];
  /** The layer `apply` returns. */
  outputLayer: string;
  /** Block names in order; nodes name their block. */
  blockOrder: readonly string[];
  preprocessing: Preprocessing;
  /** For error messages, e.g. the model.json path. */
  description: string;
}

/** Assembles a Backbone from a graph of built layers. */
export function graphBackbone(options: GraphBackboneOptions): Backbone {
  return new GraphBackbone(options);
}

/** True for layers that take a list of inputs. */
function takesList(node: BackboneNode): boolean {
  return (
    node.inputs.length > 1 || ['Add', 'Multiply', 'Concatenate'].includes(node.layer.className)
  );
}

/**
 * Runs a functional graph: computes only what the requested outputs need, in order, and
 * releases each intermediate as soon as its last reader has run (peak memory is the widest
 * cut through the graph, not the whole graph).
 */
class GraphBackbone implements Backbone {
  readonly inputName: string;
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  readonly outputLayer: string;
  readonly nodes: readonly BackboneNode[];
  readonly blocks: readonly BlockInfo[];
  readonly params: readonly Param[];
  // A plain field, so Object.assign (as pretrainedBackbone does) can replace it.
  preprocessing: Preprocessing;
  private readonly options: GraphBackboneOptions;
  private readonly byName = new Map<string, BackboneNode>();
  private readonly index = new Map<string, number>();
  /** Last layer of each block, so a block name can stand for its output. */
  private readonly blockOutputs = new Map<string, string>();
  private readonly where: string;

  constructor(options: GraphBackboneOptions) {
    this.options = options;
    this.where = options.description;
    this.inputName = options.inputName;
    this.inputShape = [...options.inputShape];
    this.nodes = options.nodes;
    this.preprocessing = options.preprocessing;
    options.nodes.forEach((node, i) => {
      const name = node.layer.name;
      if (this.byName.has(name) || name === this.inputName) {
        throw new GraftError('LAYER_DUPLICATE', `Two layers are named "${name}"`, {
          where: this.where,
          hint: 'Give every layer a unique name; heads and freezing plans address them by name.',
        });
      }
      for (const input of node.inputs) {
        if (input !== this.inputName && !this.byName.has(input)) {
          throw new GraftError(
            'INVALID_ARGUMENT',
            `Layer "${name}" reads "${input}", which does not come before it`,
            {
              where: this.where,
            },
          );
        }
      }
      this.byName.set(name, node);
      this.index.set(name, i);
    });
    const output = this.byName.get(options.outputLayer);
    if (!output) throw this.unknown(options.outputLayer);
    this.outputLayer = options.outputLayer;
    this.outputShape = output.outputShape;
    this.params = options.nodes.flatMap((n) => n.layer.params());
    assertUniqueParamNames(this.params, this.where);
    this.blocks = this.describeBlocks(options.blockOrder);
  }

  apply(x: tf.Tensor, options: ApplyOptions): tf.Tensor {
    const out = this.outputsAt(x, [this.outputLayer], options);
    return out[this.outputLayer] as tf.Tensor;
  }

  outputsAt(
    x: tf.Tensor,
    names: readonly string[],
    options: ApplyOptions,
  ): Record<string, tf.Tensor> {
    this.assertInput(x);
    const targets = new Map<string, string>();
    for (const name of names) targets.set(name, this.resolve(name));
    const needed = this.ancestors([...targets.values()]);
    const readers = new Map<string, number>();
    for (const node of this.nodes) {
      if (!needed.has(node.layer.name)) continue;
      for (const input of node.inputs) readers.set(input, (readers.get(input) ?? 0) + 1);
    }
    const kept = new Set(targets.values());
    const fused = this.fusedPairs(needed, readers, kept);
    return tf.tidy(() => {
      const values = new Map<string, tf.Tensor>([[this.inputName, x]]);
      const release = (name: string) => {
        const t = values.get(name);
        values.delete(name);
        // A layer may hand its input back (inference Dropout, a linear Activation): release
        // a tensor only when no other name still holds it, and never the caller's input.
        if (t && t !== x && ![...values.values()].includes(t)) t.dispose();
      };
      for (const node of this.nodes) {
        const name = node.layer.name;
        if (!needed.has(name)) continue;
        const inputs = node.inputs.map((i) => values.get(i) as tf.Tensor);
        const pair = fused.get(name);
        // The second layer of a fused pair: the pair already produced its value.
        if (pair && pair.next === undefined) continue;
        let y: tf.Tensor;
        if (pair) y = pair.run(inputs[0] as tf.Tensor, options);
        else if (takesList(node)) y = (node.layer as Layer<tf.Tensor[]>).apply(inputs, options);
        else y = (node.layer as Layer<tf.Tensor>).apply(inputs[0] as tf.Tensor, options);
        values.set(pair?.next ?? name, y);
        for (const input of node.inputs) {
          const left = (readers.get(input) ?? 0) - 1;
          readers.set(input, left);
          if (left === 0 && !kept.has(input)) release(input);
        }
      }
      const out: Record<string, tf.Tensor> = {};
      for (const [name, layerName] of targets) out[name] = values.get(layerName) as tf.Tensor;
      return out;
    });
  }

  /**
   * Layers to run as one step with the layer after them (see fuseLayerPair: a batch norm and
   * its ReLU, a zero padding and the 'valid' convolution after it): where the second is the only reader of
   * the first's output and nobody asked for that output. Keyed by the first (with `next`, the
   * layer whose value the pair produces) and by the second (which is then skipped).
   */
  private fusedPairs(
    needed: ReadonlySet<string>,
    readers: ReadonlyMap<string, number>,
    kept: ReadonlySet<string>,
  ): Map<string, { next?: string; run: FusedPair }> {
    const pairs = new Map<string, { next?: string; run: FusedPair }>();
    for (const node of this.nodes) {
      const [input, ...more] = node.inputs;
      if (!needed.has(node.layer.name) || input === undefined || more.length > 0) continue;
      const first = this.byName.get(input);
      if (!first || kept.has(input) || readers.get(input) !== 1) continue;
      const run = fuseLayerPair(first.layer as Layer, node.layer as Layer);
      if (!run) continue;
      pairs.set(input, { next: node.layer.name, run });
      pairs.set(node.layer.name, { run });
    }
    return pairs;
  }

  layer(name: string): AnyLayer {
    const node = this.byName.get(name);
    if (!node) throw this.unknown(name);
    return node.layer;
  }

  param(name: string): Param {
    return findParam(this.params, name, this.where);
  }

  cut(name: string): Backbone {
    const output = this.resolve(name);
    const keep = this.ancestors([output]);
    return new GraphBackbone({
      ...this.options,
      nodes: this.nodes.filter((n) => keep.has(n.layer.name)),
      outputLayer: output,
      preprocessing: this.preprocessing,
    });
  }

  dispose(): void {
    disposeParams(this.params);
  }

  /** A layer name, or a block name standing for its last layer. */
  private resolve(name: string): string {
    if (this.byName.has(name)) return name;
    const blockOutput = this.blockOutputs.get(name);
    if (blockOutput) return blockOutput;
    throw this.unknown(name);
  }

  /** The named layers and every layer they depend on. */
  private ancestors(names: readonly string[]): Set<string> {
    const seen = new Set<string>();
    const stack = [...names];
    while (stack.length > 0) {
      const name = stack.pop() as string;
      if (seen.has(name) || name === this.inputName) continue;
      seen.add(name);
      stack.push(...(this.byName.get(name)?.inputs ?? []));
    }
    return seen;
  }

  private describeBlocks(order: readonly string[]): BlockInfo[] {
    const layersOf = new Map<string, BackboneNode[]>();
    for (const node of this.nodes) {
      const list = layersOf.get(node.block) ?? [];
      list.push(node);
      layersOf.set(node.block, list);
    }
    const names = [...order, ...[...layersOf.keys()].filter((b) => !order.includes(b))];
    const infos: BlockInfo[] = [];
    for (const block of names) {
      const nodes = layersOf.get(block);
      const last = nodes?.[nodes.length - 1];
      if (!nodes || !last) continue;
      if (this.byName.has(block)) {
        throw new GraftError('LAYER_DUPLICATE', `Block "${block}" has the name of a layer`, {
          where: this.where,
          hint: 'Block and layer names share one namespace in outputsAt and cut.',
        });
      }
      this.blockOutputs.set(block, last.layer.name);
      infos.push({
        name: block,
        outputChannels: last.outputShape[last.outputShape.length - 1] ?? 0,
        stride: last.stride,
        layerNames: nodes.map((n) => n.layer.name),
      });
    }
    return infos;
  }

  private unknown(name: string): GraftError {
    const candidates = [...this.byName.keys(), ...this.blockOutputs.keys()];
    const blocks = [...this.blockOutputs.keys()];
    return new GraftError('LAYER_NOT_FOUND', `No layer or block named "${name}"`, {
      where: this.where,
      hint: [didYouMean(name, candidates), blocks.length > 0 ? `Blocks: ${blocks.join(', ')}.` : '']
        .filter(Boolean)
        .join(' '),
    });
  }

  private assertInput(x: tf.Tensor): void {
    const expected = this.inputShape;
    const got = x.shape.slice(1);
    if (x.rank !== expected.length + 1 || !got.every((d, i) => d === expected[i])) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `Expected input [batch, ${expected.join(', ')}], got [${x.shape.join(', ')}]`,
        {
          where: this.where,
          hint: 'Resize inputs to the shape the backbone was built for, or load it with another inputShape.',
        },
      );
    }
  }
}
