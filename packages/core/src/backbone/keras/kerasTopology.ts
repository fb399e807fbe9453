import { GraftError } from '../../errors';
import { describe, isJsonObject, JsonReader, type JsonValue } from '../json';

/** One layer of a Keras model as model.json describes it, before graft builds it. */
export interface KerasLayerSpec {
  readonly name: string;
  readonly className: string;
  readonly config: JsonReader;
  /** Names of the layers whose outputs it reads, in order (empty for an InputLayer). */
  readonly inbound: readonly string[];
}

/** A Keras model as a list of layers with one input and named outputs. */
export interface KerasModelSpec {
  readonly name: string;
  /** Layers in topological order, the InputLayer first. */
  readonly layers: readonly KerasLayerSpec[];
  /** The InputLayer's name. */
  readonly input: string;
  /** Per-example input shape from the InputLayer, with null for sizes left open. */
  readonly inputShape: readonly (number | null)[] | undefined;
  /** Output layer names, in the model's output order. */
  readonly outputs: readonly string[];
}

/**
 * Reads a Keras model topology (the `modelTopology` of a TF.js LayersModel model.json):
 * functional models (`Functional` / `Model`, Keras 2 and Keras 3 node formats) and
 * `Sequential` stacks, possibly wrapped in `model_config` as older converters write it.
 * Throws MODEL_MALFORMED saying which key is wrong, LAYER_UNSUPPORTED for shared layers and
 * several inputs.
 */
export function parseKerasTopology(topology: JsonValue | undefined, where: string): KerasModelSpec {
  let root = JsonReader.of(topology, `${where} modelTopology`);
  if (root.has('model_config')) root = root.object('model_config');
  const className = root.string('class_name');
  const config = root.raw('config');
  if (className === 'Sequential') return parseSequential(config, `${root.where}.config`);
  if (className === 'Functional' || className === 'Model') {
    return parseFunctional(JsonReader.of(config, `${root.where}.config`));
  }
  throw new GraftError('MODEL_MALFORMED', `Unknown model class "${className}"`, {
    where: root.at('class_name'),
    hint: 'Expected a Keras Functional, Model or Sequential topology.',
  });
}

function layerReader(value: JsonValue, index: number, where: string) {
  const layer = JsonReader.of(value, `${where}.layers[${index}]`);
  const config = layer.object('config');
  const name = layer.has('name') ? layer.string('name') : config.string('name');
  const className = layer.string('class_name');
  const located = new JsonReader(config.value, `layer "${name}" (${className}) config`);
  return { layer, name, className, config: located };
}

function parseFunctional(config: JsonReader): KerasModelSpec {
  const layers: KerasLayerSpec[] = config.array('layers').map((value, index) => {
    const { layer, name, className, config: layerConfig } = layerReader(value, index, config.where);
    const nodes = layer.has('inbound_nodes') ? layer.array('inbound_nodes') : [];
    if (nodes.length > 1) {
      throw new GraftError(
        'LAYER_UNSUPPORTED',
        `Layer "${name}" is shared: it is called ${nodes.length} times`,
        {
          where: `layer "${name}" (${className})`,
          hint: 'graft runs graphs whose layers are each called once.',
        },
      );
    }
    const inbound =
      nodes.length === 0
        ? []
        : inboundNames(nodes[0] as JsonValue, `layer "${name}" (${className}).inbound_nodes[0]`);
    return { name, className, config: layerConfig, inbound };
  });
  const inputs = tensorRefs(config.raw('input_layers'), config.at('input_layers'));
  const outputs = tensorRefs(config.raw('output_layers'), config.at('output_layers'));
  if (inputs.length !== 1) {
    throw new GraftError(
      'LAYER_UNSUPPORTED',
      `The model has ${inputs.length} inputs; graft backbones take one image`,
      {
        where: config.at('input_layers'),
      },
    );
  }
  const input = inputs[0] as string;
  const inputLayer = layers.find((l) => l.name === input);
  if (!inputLayer) {
    throw new GraftError('MODEL_MALFORMED', `The input "${input}" is not among the layers`, {
      where: config.at('input_layers'),
    });
  }
  return {
    name: config.string('name', 'model'),
    layers: topologicalOrder(layers, config.where),
    input,
    inputShape: batchShape(inputLayer.config),
    outputs,
  };
}

function parseSequential(config: JsonValue | undefined, where: string): KerasModelSpec {
  // Keras 2.0 wrote a Sequential config as the bare layer list.
  const reader = Array.isArray(config)
    ? new JsonReader({ layers: config }, where)
    : JsonReader.of(config, where);
  const raw = reader.array('layers');
  const parsed = raw.map((value, index) => layerReader(value, index, reader.where));
  const first = parsed[0];
  if (!first) {
    throw new GraftError('MODEL_MALFORMED', 'The Sequential model has no layers', { where });
  }
  const layers: KerasLayerSpec[] = [];
  let previous: string;
  let inputShape: (number | null)[] | undefined;
  if (first.className === 'InputLayer') {
    layers.push({ name: first.name, className: 'InputLayer', config: first.config, inbound: [] });
    inputShape = batchShape(first.config);
    previous = first.name;
  } else {
    // Keras puts the input shape on the first layer and names the implicit input after it.
    previous = `${first.name}_input`;
    inputShape = batchShape(first.config);
    layers.push({
      name: previous,
      className: 'InputLayer',
      config: new JsonReader({}, `layer "${previous}" (InputLayer) config`),
      inbound: [],
    });
  }
  for (const { name, className, config: layerConfig } of parsed) {
    if (className === 'InputLayer') continue;
    layers.push({ name, className, config: layerConfig, inbound: [previous] });
    previous = name;
  }
  return {
    name: reader.string('name', 'sequential'),
    layers,
    input: layers[0]?.name ?? 'input',
    inputShape,
    outputs: [previous],
  };
}

/** Per-example shape from `batch_input_shape` (Keras 2), `batch_shape` (Keras 3) or `input_shape`. */
function batchShape(config: JsonReader): (number | null)[] | undefined {
  if (config.has('batch_input_shape')) return config.shape('batch_input_shape').slice(1);
  if (config.has('batch_shape')) return config.shape('batch_shape').slice(1);
  if (config.has('input_shape')) return config.shape('input_shape');
  return undefined;
}

/**
 * Producer names of one inbound node. Keras 2: `[[name, node, tensor, kwargs], ...]`.
 * Keras 3: `{args: [tensor | [tensor, ...]], kwargs}` with tensors as
 * `{class_name: '__keras_tensor__', config: {keras_history: [name, node, tensor]}}`.
 */
function inboundNames(node: JsonValue, where: string): string[] {
  if (Array.isArray(node)) {
    return node.map((entry, i) => {
      if (Array.isArray(entry) && typeof entry[0] === 'string')
        return historyName(entry, `${where}[${i}]`);
      throw malformedNode(`${where}[${i}]`, entry);
    });
  }
  if (isJsonObject(node) && Array.isArray(node.args)) {
    const names: string[] = [];
    const visit = (value: JsonValue, at: string) => {
      if (Array.isArray(value)) {
        value.forEach((v, i) => {
          visit(v, `${at}[${i}]`);
        });
      } else if (isJsonObject(value) && value.class_name === '__keras_tensor__') {
        const config = isJsonObject(value.config) ? value.config : {};
        const history = config.keras_history;
        if (!Array.isArray(history)) throw malformedNode(at, value);
        names.push(historyName(history, at));
      }
    };
    visit(node.args, `${where}.args`);
    return names;
  }
  throw malformedNode(where, node);
}

function historyName(entry: JsonValue[], where: string): string {
  const [name, nodeIndex, tensorIndex] = entry;
  if (typeof name !== 'string') throw malformedNode(where, entry);
  if ((nodeIndex ?? 0) !== 0 || (tensorIndex ?? 0) !== 0) {
    throw new GraftError(
      'LAYER_UNSUPPORTED',
      `Reads output ${String(tensorIndex)} of call ${String(nodeIndex)} of layer "${name}"`,
      { where, hint: 'graft runs graphs whose layers are each called once, with one output.' },
    );
  }
  return name;
}

function malformedNode(where: string, got: unknown): GraftError {
  return new GraftError('MODEL_MALFORMED', `Unreadable inbound node ${describe(got)}`, { where });
}

/** `input_layers` / `output_layers`: `[[name, 0, 0], ...]`, or one `[name, 0, 0]` (Keras 3). */
function tensorRefs(value: JsonValue | undefined, where: string): string[] {
  if (!Array.isArray(value))
    throw new GraftError('MODEL_MALFORMED', `Expected a list of layers, got ${describe(value)}`, {
      where,
    });
  if (typeof value[0] === 'string') return [historyName(value, where)];
  return value.map((entry, i) => {
    if (!Array.isArray(entry)) throw malformedNode(`${where}[${i}]`, entry);
    return historyName(entry, `${where}[${i}]`);
  });
}

/**
 * Kahn's algorithm, taking ready layers in file order, so a file already in order (as Keras
 * writes them) keeps its order. Unknown producers and cycles are MODEL_MALFORMED.
 */
function topologicalOrder(layers: readonly KerasLayerSpec[], where: string): KerasLayerSpec[] {
  const byName = new Map<string, KerasLayerSpec>();
  for (const layer of layers) {
    if (byName.has(layer.name)) {
      throw new GraftError('MODEL_MALFORMED', `Two layers are named "${layer.name}"`, { where });
    }
    byName.set(layer.name, layer);
  }
  for (const layer of layers) {
    for (const producer of layer.inbound) {
      if (!byName.has(producer)) {
        throw new GraftError(
          'MODEL_MALFORMED',
          `Layer "${layer.name}" reads "${producer}", which is not a layer of the model`,
          {
            where: `layer "${layer.name}" (${layer.className}).inbound_nodes`,
          },
        );
      }
    }
  }
  const done = new Set<string>();
  const ordered: KerasLayerSpec[] = [];
  let pending = [...layers];
  while (pending.length > 0) {
    const ready = pending.filter((l) => l.inbound.every((p) => done.has(p)));
    if (ready.length === 0) {
      throw new GraftError(
        'MODEL_MALFORMED',
        `The layers ${pending
          .map((l) => `"${l.name}"`)
          .slice(0, 5)
          .join(', ')} form a cycle`,
        { where },
      );
    }
    // One at a time keeps file order among independent branches.
    const next = ready[0] as KerasLayerSpec;
    ordered.push(next);
    done.add(next.name);
    pending = pending.filter((l) => l !== next);
  }
  return ordered;
}
