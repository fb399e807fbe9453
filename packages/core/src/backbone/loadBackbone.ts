import { GraftError } from '../errors';
import type { Backbone } from './backbone';
import type { BlockGrouping } from './blockGrouping';
import { type BuiltGraph, buildGraph } from './buildGraph';
import { graphBackbone } from './graphBackbone';
import { type KerasModelSpec, parseKerasTopology } from './keras/kerasTopology';
import { Rescaling } from './layers/rescaling';
import { type ModelSource, type ReadModel, readModel } from './modelSource';
import {
  defaultPreprocessing,
  type Preprocessing,
  preprocessingForRescaling,
  resolvePreprocessing,
} from './preprocessing';
import { type GraftSidecar, parseSidecar } from './sidecar';
import { type DecodedWeight, decodeWeightsGroup } from './weightsManifest';

/**
 * Options of {@link loadBackbone}: where to cut, the input shape, how layers group into
 * blocks, and preprocessing overrides.
 *
 * @example
 * ```ts
 * const options: LoadBackboneOptions = {
 *   cutAt: 'block_13_expand_relu',
 *   inputShape: [128, 128, 3],
 *   preprocessing: { inputRange: [0, 1] },
 * };
 * ```
 */
export interface LoadBackboneOptions {
  /**
   * Keep the graph up to this layer (or block), e.g. the last ReLU before the classifier.
   * Default: the model's output, or for a graft export the end of its trunk.
   */
  cutAt?: string;
  /**
   * Per-example input [height, width, channels]. Default: the model's. Height and width may
   * differ from the model's when the kept graph is convolutional.
   */
  inputShape?: readonly [number, number, number];
  /** How layers are grouped into blocks. Default `auto`. */
  blocks?: BlockGrouping;
  /** Overrides the inferred preprocessing. */
  preprocessing?: Partial<Preprocessing>;
}

/**
 * Loads a Keras model saved in the TF.js LayersModel format (model.json + weight shards) as a
 * Backbone: from a path, an http(s) URL, or memory. Quantized weights (uint8, uint16,
 * float16) are dequantized; parameters keep the Keras weight names (`Conv1/kernel`).
 *
 * @example
 * ```ts
 * const trunk = await loadBackbone('models/mobilenet_v2/model.json', { cutAt: 'out_relu' });
 * trunk.blocks.map((b) => b.name); // ['stem', 'block_0', ..., 'block_16', 'conv_head']
 * ```
 */
export async function loadBackbone(
  source: ModelSource,
  options: LoadBackboneOptions = {},
): Promise<Backbone> {
  const read = await readModel(source);
  const model = interpretModel(read);
  const output = options.cutAt ?? defaultOutput(model.spec, model.sidecar, read.where);
  return assembleBackbone(model, output, options, read.where);
}

/** A read model with its topology, sidecar and weights interpreted. */
export interface InterpretedModel {
  spec: KerasModelSpec;
  sidecar: GraftSidecar | undefined;
  weights: Map<string, DecodedWeight>;
}

export function interpretModel(read: ReadModel): InterpretedModel {
  const spec = parseKerasTopology(read.topology, read.where);
  const sidecar =
    read.sidecar === undefined ? undefined : parseSidecar(read.sidecar, `${read.where} graft.json`);
  if (sidecar) assertSidecarMatches(sidecar, read);
  const weights = new Map<string, DecodedWeight>();
  for (const { group, data, where } of read.groups) {
    for (const w of decodeWeightsGroup(group, data, where))
      weights.set(w.name.replace(/:\d+$/, ''), w);
  }
  return { spec, sidecar, weights };
}

/** Builds the layers `output` needs and wraps them as a Backbone cut at `output`. */
export function assembleBackbone(
  model: InterpretedModel,
  output: string,
  options: LoadBackboneOptions,
  where: string,
  extraOutputs: readonly string[] = [],
  headBlocks?: ReadonlyMap<string, string>,
): Backbone {
  const { spec, sidecar, weights } = model;
  const names = new Set(spec.layers.map((l) => l.name));
  if (!names.has(output) || output === spec.input) {
    // Not a layer: a block name is resolved on the whole graph, anything else is reported
    // with the nearest layer and block names.
    const [first, ...rest] = sidecar ? [sidecar.trunk.output] : spec.outputs;
    const whole = assembleBackbone(model, first as string, options, where, rest);
    try {
      const cut = whole.cut(output);
      const kept = new Set(cut.params);
      for (const p of whole.params) if (!kept.has(p)) p.variable.dispose();
      return cut;
    } catch (error) {
      whole.dispose();
      throw error;
    }
  }
  const groupingRoots = sidecar ? [sidecar.trunk.output] : spec.outputs;
  const built = buildGraph(spec, weights, {
    ...(options.inputShape ? { inputShape: options.inputShape } : {}),
    outputs: [output, ...extraOutputs],
    groupingRoots: groupingRoots.filter((r) => names.has(r)),
    grouping: options.blocks ?? 'auto',
    ...(headBlocks ? { headBlocks } : {}),
    where,
  });
  return graphBackbone({
    inputName: built.inputName,
    inputShape: built.inputShape,
    nodes: built.nodes,
    outputLayer: output,
    blockOrder: built.blockOrder,
    preprocessing: preprocessingFor(built, sidecar, options, where),
    description: where,
  });
}

function defaultOutput(
  spec: KerasModelSpec,
  sidecar: GraftSidecar | undefined,
  where: string,
): string {
  if (sidecar) return sidecar.trunk.output;
  if (spec.outputs.length === 1) return spec.outputs[0] as string;
  throw new GraftError(
    'INVALID_ARGUMENT',
    `The model has ${spec.outputs.length} outputs (${spec.outputs.join(', ')})`,
    {
      where,
      hint: 'Pass cutAt to say which layer the backbone ends at.',
    },
  );
}

function preprocessingFor(
  built: BuiltGraph,
  sidecar: GraftSidecar | undefined,
  options: LoadBackboneOptions,
  where: string,
): Preprocessing {
  const size: [number, number, number] = built.inputShape;
  let inferred: Preprocessing;
  const first = built.nodes.filter((n) => n.inputs.includes(built.inputName));
  const rescaling = first.length === 1 ? first[0]?.layer : undefined;
  if (sidecar) inferred = { ...sidecar.preprocessing, size };
  else if (rescaling instanceof Rescaling)
    inferred = preprocessingForRescaling(rescaling.config.scale, size);
  else inferred = defaultPreprocessing(size);
  return options.preprocessing
    ? resolvePreprocessing(options.preprocessing, inferred, where)
    : inferred;
}

/**
 * graft.json names the weight files of the model.json it was written with; saveModel writes
 * it before model.json, so a crash in between leaves a pair that disagrees. Say so.
 */
function assertSidecarMatches(sidecar: GraftSidecar, read: ReadModel): void {
  const paths = read.groups.flatMap((g) => g.group.paths);
  if (paths.length === 1 && paths[0] === 'weightData') return;
  const same =
    paths.length === sidecar.weightFiles.length &&
    paths.every((p) => sidecar.weightFiles.includes(p));
  if (!same) {
    throw new GraftError(
      'MODEL_MALFORMED',
      'graft.json describes other weight files than model.json lists',
      {
        where: `${read.where} graft.json`,
        hint: 'The pair is from two different saves (an interrupted save?); save the model again.',
      },
    );
  }
}
