import { GraftError } from '../errors';
import type { AnyLayer } from '../nn/module';
import { isMovingStatistic } from '../nn/param';
import type { Backbone, BackboneNode } from './backbone';
import type { JsonObject, JsonValue } from './json';
import type { KerasLayerEntry } from './keras/kerasLayerCodec';
import { codecForLayer } from './keras/kerasLayerCodecs';
import { type QuantizationDtype, quantize } from './quantization';
import {
  GRAFT_SIDECAR_VERSION,
  type GraftSidecar,
  type SidecarFreezeRow,
  type SidecarTask,
} from './sidecar';
import { graftVersions } from './version';

/**
 * A task head in a neutral form: graft layers (Dense with an activation, pooling, Dropout,
 * Activation, ...) applied in order to the output of a trunk layer. @graft/heads builds its
 * heads from these layers, so the exporter needs to know nothing about head kinds.
 *
 * @example
 * ```ts
 * const head: ExportHead = {
 *   task: 'carCount',
 *   layers: [
 *     new GlobalAveragePooling2D({ name: 'carCount_pool' }),
 *     new Dense({ name: 'carCount_output', inputUnits: 1280, units: 1, seed: 1 }),
 *   ],
 * };
 * await saveModel('out/model', { backbone: trunk, heads: [head] });
 * ```
 */
export interface ExportHead {
  /** Task name; the model has one output per task. */
  task: string;
  /** Trunk layer (or block) the head reads. Default: the trunk's output. */
  attachAt?: string;
  /** Single-input layers in order; the last one's output is the task's prediction. */
  layers: readonly AnyLayer[];
  /** Written to graft.json for whoever uses the model. */
  kind?: string;
  labels?: readonly string[];
  thresholds?: readonly number[];
}

/**
 * Options of {@link exportModel} and {@link saveModel}: the trunk, the heads, the Keras model
 * name, quantisation, shard size, and the graft.json sections (freeze plan, metrics, training).
 *
 * @example
 * ```ts
 * const options: ExportModelOptions = {
 *   backbone: trunk,
 *   heads: [head],
 *   quantization: 'uint8',
 *   metrics: { validation: { 'presence/mAP': 0.81 } },
 * };
 * ```
 */
export interface ExportModelOptions {
  backbone: Backbone;
  heads?: readonly ExportHead[];
  /** Keras model name. Default `graft_model`. */
  name?: string;
  /** Store weights quantized (smaller files, no longer bit-identical). Default float32. */
  quantization?: QuantizationDtype;
  /** Largest shard in bytes. Default 4 MiB, as tfjs. */
  shardBytes?: number;
  /** graft.json sections other parts of graft fill in. */
  freezePlan?: readonly SidecarFreezeRow[];
  metrics?: GraftSidecar['metrics'];
  training?: GraftSidecar['training'];
}

/**
 * A saved model in memory: what `saveModel` writes, or what a browser app stores.
 *
 * @example
 * ```ts
 * const { modelJson, shards, sidecar }: ExportedModel = await exportModel({ backbone: trunk });
 * Object.keys(shards); // e.g. ['weights-3f2a9c1e-1of1.bin']: named after a hash of the content
 * ```
 */
export interface ExportedModel {
  /** model.json: `{format, generatedBy, modelTopology, weightsManifest}`. */
  modelJson: JsonObject;
  /** Shard file name -> bytes. */
  shards: Record<string, Uint8Array>;
  /** graft.json. */
  sidecar: GraftSidecar;
}

/**
 * Writes a trunk and its task heads as one Keras functional model (one output per task) in
 * the TF.js LayersModel format that `@tensorflow/tfjs-layers`' `loadLayersModel` and graft's
 * `loadBackbone` / `loadGraftModel` read, plus the graft.json sidecar. Only the layers the
 * outputs need are written.
 *
 * @example
 * ```ts
 * const exported = await exportModel({ backbone: trunk, heads: [head] });
 * const reloaded = await loadGraftModel({ modelJson: exported.modelJson, shards: exported.shards, sidecar: exported.sidecar });
 * ```
 */
export async function exportModel(options: ExportModelOptions): Promise<ExportedModel> {
  const { backbone } = options;
  const heads = options.heads ?? [];
  const where = 'exportModel';
  const trunkByName = new Map(backbone.nodes.map((n) => [n.layer.name, n]));
  const blockEnd = new Map(
    backbone.blocks.map((b) => [b.name, b.layerNames[b.layerNames.length - 1] as string]),
  );
  const attach = (head: ExportHead): string => {
    const name = head.attachAt ?? backbone.outputLayer;
    const layer = trunkByName.has(name) ? name : blockEnd.get(name);
    if (!layer) {
      throw new GraftError(
        'LAYER_NOT_FOUND',
        `Head "${head.task}" attaches at "${name}", which is not a trunk layer or block`,
        {
          where,
        },
      );
    }
    return layer;
  };
  checkHeads(heads, trunkByName, where);

  const outputs = heads.length > 0 ? heads.map((h) => lastLayer(h).name) : [backbone.outputLayer];
  const trunkNeeded = trunkAncestors(
    backbone.nodes,
    heads.length > 0 ? heads.map(attach) : [backbone.outputLayer],
  );
  const trunkNodes = backbone.nodes.filter((n) => trunkNeeded.has(n.layer.name));

  const entries: KerasLayerEntry[] = [
    {
      className: 'InputLayer',
      name: backbone.inputName,
      config: {
        batch_input_shape: [null, ...backbone.inputShape],
        dtype: 'float32',
        sparse: false,
      },
      inputs: [],
    },
  ];
  const exported: AnyLayer[] = [];
  const addLayer = (layer: AnyLayer, inputs: readonly string[]) => {
    const codec = codecForLayer(layer.className, layer.name);
    const expanded = codec.toKerasLayers?.(layer, inputs);
    const trainable = layerTrainable(layer);
    const own = () => [
      { className: layer.className, name: layer.name, config: codec.toKeras(layer), inputs },
    ];
    entries.push(...(expanded ?? own()).map((e) => ({ ...e, trainable })));
    exported.push(layer);
  };
  for (const node of trunkNodes) addLayer(node.layer, node.inputs);
  for (const head of heads) {
    let previous = attach(head);
    for (const layer of head.layers) {
      addLayer(layer, [previous]);
      previous = layer.name;
    }
  }

  const { manifest, shards } = await weightFiles(exported, options);
  const modelJson: JsonObject = {
    format: 'layers-model',
    generatedBy: `graft ${graftVersions().graft}`,
    convertedBy: null,
    modelTopology: {
      class_name: 'Model',
      config: {
        name: options.name ?? 'graft_model',
        layers: entries.map(kerasLayerJson),
        input_layers: [[backbone.inputName, 0, 0]],
        output_layers: outputs.map((o) => [o, 0, 0]),
      },
      // tfjs-layers writes its own version here; the topology follows its Keras 2 layout.
      keras_version: `tfjs-layers ${graftVersions().tfjs}`,
      backend: 'tensor_flow.js',
    },
    weightsManifest: [manifest],
  };

  const trunkOutput = trunkNeeded.has(backbone.outputLayer)
    ? backbone.outputLayer
    : (trunkNodes[trunkNodes.length - 1]?.layer.name ?? backbone.outputLayer);
  const tasks: SidecarTask[] = heads.map((h) => ({
    name: h.task,
    output: lastLayer(h).name,
    attachAt: attach(h),
    ...(h.kind !== undefined ? { kind: h.kind } : {}),
    ...(h.labels !== undefined ? { labels: [...h.labels] } : {}),
    ...(h.thresholds !== undefined ? { thresholds: [...h.thresholds] } : {}),
  }));
  const sidecar: GraftSidecar = {
    format: 'graft-model',
    version: GRAFT_SIDECAR_VERSION,
    weightFiles: Object.keys(shards),
    versions: graftVersions(),
    createdAt: new Date().toISOString(),
    trunk: {
      input: backbone.inputName,
      output: trunkOutput,
      inputShape: [...backbone.inputShape],
      blocks: backbone.blocks
        .map((b) => ({ ...b, layerNames: b.layerNames.filter((n) => trunkNeeded.has(n)) }))
        .filter((b) => b.layerNames.length > 0)
        .map((b) => ({ ...b, layerNames: [...b.layerNames] })),
    },
    preprocessing: {
      inputRange: [...backbone.preprocessing.inputRange] as [number, number],
      mean: [...backbone.preprocessing.mean],
      std: [...backbone.preprocessing.std],
      size: [...backbone.preprocessing.size] as [number, number, number],
    },
    tasks,
    ...(options.freezePlan ? { freezePlan: options.freezePlan.map((r) => ({ ...r })) } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.training ? { training: options.training } : {}),
  };
  return { modelJson, shards, sidecar };
}

/**
 * Keras's layer-level `trainable`: false when no learned weight of the layer trains (a frozen
 * layer); moving statistics do not count. A partly frozen layer is written as trainable;
 * graft.json's freeze plan has the detail.
 */
function layerTrainable(layer: AnyLayer): boolean {
  const learned = layer.params().filter((p) => !isMovingStatistic(p.kind));
  return learned.length === 0 || learned.some((p) => p.trainable);
}

function lastLayer(head: ExportHead): AnyLayer {
  return head.layers[head.layers.length - 1] as AnyLayer;
}

function checkHeads(
  heads: readonly ExportHead[],
  trunk: ReadonlyMap<string, BackboneNode>,
  where: string,
): void {
  const names = new Set(trunk.keys());
  const tasks = new Set<string>();
  for (const head of heads) {
    if (tasks.has(head.task)) {
      throw new GraftError('INVALID_ARGUMENT', `Two heads are for task "${head.task}"`, { where });
    }
    tasks.add(head.task);
    if (head.layers.length === 0) {
      throw new GraftError('INVALID_ARGUMENT', `Head "${head.task}" has no layers`, { where });
    }
    for (const layer of head.layers) {
      if (names.has(layer.name)) {
        throw new GraftError(
          'LAYER_DUPLICATE',
          `Head "${head.task}" has a layer named "${layer.name}", a name already used`,
          {
            where,
            hint: 'Prefix head layer names with the task name; Keras layer names must be unique.',
          },
        );
      }
      names.add(layer.name);
      if (['Add', 'Multiply', 'Concatenate'].includes(layer.className)) {
        throw new GraftError(
          'EXPORT_FAILED',
          `Head "${head.task}" layer "${layer.name}" merges inputs; heads are chains`,
          { where },
        );
      }
    }
  }
}

function trunkAncestors(nodes: readonly BackboneNode[], outputs: readonly string[]): Set<string> {
  const byName = new Map(nodes.map((n) => [n.layer.name, n]));
  const seen = new Set<string>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (seen.has(name)) continue;
    const node = byName.get(name);
    if (!node) continue;
    seen.add(name);
    stack.push(...node.inputs);
  }
  return seen;
}

function kerasLayerJson(entry: KerasLayerEntry): JsonObject {
  const config: JsonObject = {
    name: entry.name,
    trainable: entry.trainable ?? true,
    ...entry.config,
  };
  return {
    class_name: entry.className,
    name: entry.name,
    config,
    inbound_nodes:
      entry.inputs.length === 0 ? [] : [entry.inputs.map((i): JsonValue => [i, 0, 0, {}])],
  };
}

/**
 * Weights in layer order, each under its parameter name (`<layer>/<weight>`, what
 * tfjs-layers matches), split into shards named after a hash of their content: a new save
 * never overwrites a shard an older model.json still lists.
 */
async function weightFiles(
  layers: readonly AnyLayer[],
  options: ExportModelOptions,
): Promise<{ manifest: JsonObject; shards: Record<string, Uint8Array> }> {
  const specs: JsonObject[] = [];
  const parts: Uint8Array[] = [];
  for (const layer of layers) {
    for (const param of layer.params()) {
      const values = param.variable.dataSync() as Float32Array;
      const spec: JsonObject = {
        name: param.name,
        shape: [...param.variable.shape],
        dtype: 'float32',
      };
      if (options.quantization) {
        const { bytes, quantization } = quantize(values, options.quantization);
        spec.quantization = { ...quantization };
        parts.push(bytes);
      } else {
        parts.push(
          new Uint8Array(
            values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength),
          ),
        );
      }
      specs.push(spec);
    }
  }
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const data = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    data.set(p, offset);
    offset += p.byteLength;
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
  const hash = Array.from(digest.slice(0, 6), (b) => b.toString(16).padStart(2, '0')).join('');
  const shardBytes = options.shardBytes ?? 4 * 1024 * 1024;
  const count = Math.max(1, Math.ceil(total / shardBytes));
  const shards: Record<string, Uint8Array> = {};
  for (let i = 0; i < count; i++) {
    shards[`weights-${hash}-${i + 1}of${count}.bin`] = data.slice(
      i * shardBytes,
      Math.min(total, (i + 1) * shardBytes),
    );
  }
  return { manifest: { paths: Object.keys(shards), weights: specs }, shards };
}
