import type { io } from '@tensorflow/tfjs-core';
import { isNode } from '../backend/wasmFiles';
import { GraftError } from '../errors';
import { isJsonObject, type JsonObject, type JsonValue, parseJson } from './json';
import { nodeFs } from './nodeFs';
import { parseWeightSpec, parseWeightsManifest, type WeightsGroup } from './weightsManifest';

/** Bytes of one or more weight files. */
export type WeightBytes = ArrayBuffer | Uint8Array | readonly (ArrayBuffer | Uint8Array)[];

/**
 * A model held in memory, as tfjs's `ModelArtifacts` (what `tf.io.fromMemory` and
 * `withSaveHandler` pass around): the topology, a flat weight list and the concatenated bytes.
 *
 * @example
 * ```ts
 * const artifacts: InMemoryModelArtifacts = { modelTopology, weightSpecs, weightData };
 * const trunk = await loadBackbone(artifacts);
 * ```
 */
export interface InMemoryModelArtifacts {
  modelTopology: object;
  weightSpecs?: readonly object[];
  weightData?: WeightBytes;
  /** The graft.json sidecar, when the model was exported by graft. */
  sidecar?: object;
}

/**
 * A model.json and its shard files held in memory, e.g. picked with `<input type=file>`:
 * `shards` maps each path the manifest lists to its bytes.
 *
 * @example
 * ```ts
 * // In the browser, from <input type="file" multiple>:
 * const files: InMemoryModelFiles = {
 *   modelJson: await jsonFile.text(),
 *   shards: { [shardFile.name]: await shardFile.arrayBuffer() },
 * };
 * const trunk = await loadBackbone(files);
 * ```
 */
export interface InMemoryModelFiles {
  modelJson: object | string;
  shards: Readonly<Record<string, ArrayBuffer | Uint8Array>>;
  sidecar?: object | string;
}

/**
 * A tfjs IOHandler with `load()`: `tf.io.browserFiles`, `tf.io.fromMemory`, IndexedDB, ...
 *
 * @example
 * ```ts
 * const loader: ModelLoader = tf.io.browserFiles([jsonFile, shardFile]);
 * const trunk = await loadBackbone(loader);
 * ```
 */
export type ModelLoader = Pick<io.IOHandler, 'load'>;

/**
 * Where a model comes from: a path to model.json (or its folder), an http(s) or file URL, or
 * the model in memory.
 *
 * @example
 * ```ts
 * const sources: ModelSource[] = ['models/mobilenet/model.json', new URL('https://example.org/m/model.json'), artifacts];
 * ```
 */
export type ModelSource = string | URL | InMemoryModelArtifacts | InMemoryModelFiles | ModelLoader;

/** A model's JSON and weight bytes, read but not yet interpreted. */
export interface ReadModel {
  /** The model's location for error messages: a path, a URL or "in-memory model". */
  where: string;
  topology: JsonValue | undefined;
  groups: { group: WeightsGroup; data: Uint8Array; where: string }[];
  /** Parsed graft.json when present beside the model. */
  sidecar: JsonValue | undefined;
}

/** Reads a model from any source: files and URLs through fs or fetch, memory as is. */
export async function readModel(source: ModelSource): Promise<ReadModel> {
  if (source instanceof URL) return readFromUrlString(source.href);
  if (typeof source === 'string') return readFromUrlString(source);
  if ('load' in source && typeof source.load === 'function') {
    const artifacts = await source.load();
    return fromArtifacts(artifacts as InMemoryModelArtifacts, 'model from IOHandler.load()');
  }
  if ('modelJson' in source) return fromFiles(source);
  if ('modelTopology' in source) return fromArtifacts(source, 'in-memory model');
  throw new GraftError('INVALID_ARGUMENT', 'Unrecognised model source', {
    where: 'loadBackbone(source)',
    hint: 'Pass a path or URL to model.json, {modelTopology, weightSpecs, weightData}, {modelJson, shards}, or an object with load().',
  });
}

async function readFromUrlString(source: string): Promise<ReadModel> {
  if (/^https?:\/\//i.test(source) || !isNode()) return readFromUrl(source);
  if (/^file:/i.test(source)) {
    const { fileURLToPath } = await import('node:url');
    return readFromPath(fileURLToPath(source));
  }
  return readFromPath(source);
}

// --- files -----------------------------------------------------------------------------

async function readFromPath(input: string): Promise<ReadModel> {
  const fs = await nodeFs();
  const path = await import('node:path');
  let file = path.resolve(input);
  const stat = await fs.stat(file).catch(() => undefined);
  if (stat?.isDirectory()) file = path.join(file, 'model.json');
  const dir = path.dirname(file);
  const text = new TextDecoder().decode(await readFileBytes(file, 'model.json'));
  const json = parseJson(text, file);
  const modelJson = modelJsonObject(json, file);
  const groups = [];
  for (const [g, group] of manifestOf(modelJson, file).entries()) {
    const parts = [];
    for (const p of group.paths) {
      parts.push(
        await readFileBytes(
          path.join(dir, p),
          `shard listed in weightsManifest[${g}].paths of ${file}`,
        ),
      );
    }
    groups.push({ group, data: concat(parts), where: `${file} weightsManifest[${g}]` });
  }
  const sidecarFile = path.join(dir, 'graft.json');
  const sidecarBytes = await fs.readFile(sidecarFile).catch(() => undefined);
  const sidecar = sidecarBytes
    ? parseJson(new TextDecoder().decode(sidecarBytes), sidecarFile)
    : undefined;
  return { where: file, topology: modelJson.modelTopology, groups, sidecar };
}

async function readFileBytes(file: string, what: string): Promise<Uint8Array> {
  const fs = await nodeFs();
  try {
    return new Uint8Array(await fs.readFile(file));
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === 'ENOENT') {
      throw new GraftError('MODEL_NOT_FOUND', `File not found`, {
        where: `${file} (${what})`,
        hint: 'Check the path; a model is model.json plus the shard files its weightsManifest lists, side by side.',
        cause,
      });
    }
    throw new GraftError('MODEL_READ_FAILED', `Cannot read file: ${(cause as Error).message}`, {
      where: `${file} (${what})`,
      cause,
    });
  }
}

// --- URLs ------------------------------------------------------------------------------

async function readFromUrl(url: string): Promise<ReadModel> {
  const base = typeof location === 'undefined' ? undefined : location.href;
  const modelUrl = new URL(url, base).href;
  const json = parseJson(
    new TextDecoder().decode(await fetchBytes(modelUrl, 'model.json')),
    modelUrl,
  );
  const modelJson = modelJsonObject(json, modelUrl);
  const groups = await Promise.all(
    manifestOf(modelJson, modelUrl).map(async (group, g) => {
      const parts = await Promise.all(
        group.paths.map((p) =>
          fetchBytes(
            new URL(p, modelUrl).href,
            `shard listed in weightsManifest[${g}].paths of ${modelUrl}`,
          ),
        ),
      );
      return { group, data: concat(parts), where: `${modelUrl} weightsManifest[${g}]` };
    }),
  );
  const sidecarUrl = new URL('graft.json', modelUrl).href;
  const sidecarBytes = await fetchBytes(sidecarUrl, 'graft.json').catch((e: unknown) => {
    if (e instanceof GraftError && e.code === 'MODEL_NOT_FOUND') return undefined;
    throw e;
  });
  const sidecar = sidecarBytes
    ? parseJson(new TextDecoder().decode(sidecarBytes), sidecarUrl)
    : undefined;
  return { where: modelUrl, topology: modelJson.modelTopology, groups, sidecar };
}

async function fetchBytes(url: string, what: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (cause) {
    throw new GraftError('MODEL_READ_FAILED', `Cannot fetch: ${(cause as Error).message}`, {
      where: `${url} (${what})`,
      hint: 'Check the URL and the network; a cross-origin server must allow CORS.',
      cause,
    });
  }
  if (!response.ok) {
    const notFound = response.status === 404 || response.status === 410;
    throw new GraftError(
      notFound ? 'MODEL_NOT_FOUND' : 'MODEL_READ_FAILED',
      `HTTP ${response.status} ${response.statusText}`.trim(),
      { where: `${url} (${what})` },
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

// --- memory ----------------------------------------------------------------------------

function fromFiles(source: InMemoryModelFiles): ReadModel {
  const where = 'in-memory model.json';
  const json =
    typeof source.modelJson === 'string'
      ? parseJson(source.modelJson, where)
      : (source.modelJson as JsonValue);
  const modelJson = modelJsonObject(json, where);
  const groups = manifestOf(modelJson, where).map((group, g) => {
    const parts = group.paths.map((p) => {
      const bytes = source.shards[p] ?? source.shards[p.replace(/^\.\//, '')];
      if (!bytes) {
        throw new GraftError('MODEL_NOT_FOUND', `Shard "${p}" is missing`, {
          where: `${where} weightsManifest[${g}].paths`,
          hint: `Pass every shard the manifest lists; got: ${Object.keys(source.shards).join(', ') || 'none'}.`,
        });
      }
      return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    });
    return { group, data: concat(parts), where: `${where} weightsManifest[${g}]` };
  });
  const sidecar =
    typeof source.sidecar === 'string'
      ? parseJson(source.sidecar, 'in-memory graft.json')
      : (source.sidecar as JsonValue | undefined);
  return { where, topology: modelJson.modelTopology, groups, sidecar };
}

function fromArtifacts(source: InMemoryModelArtifacts, where: string): ReadModel {
  if (!isJsonObject(source.modelTopology)) {
    throw new GraftError('MODEL_MALFORMED', 'modelTopology must be a Keras model topology object', {
      where,
      hint: 'A TF.js graph model (converted SavedModel) cannot be loaded; graft reads layers models.',
    });
  }
  const specs = (source.weightSpecs ?? []) as JsonValue[];
  const weights = specs.map((s, i) => parseWeightSpec(s, `${where} weightSpecs[${i}]`));
  const data = source.weightData === undefined ? new Uint8Array(0) : bytesOf(source.weightData);
  return {
    where,
    topology: source.modelTopology as JsonObject,
    groups: [{ group: { paths: ['weightData'], weights }, data, where: `${where} weightData` }],
    sidecar: source.sidecar as JsonValue | undefined,
  };
}

// --- shared ----------------------------------------------------------------------------

function modelJsonObject(json: JsonValue, where: string): JsonObject {
  if (!isJsonObject(json)) {
    throw new GraftError('MODEL_MALFORMED', 'model.json must hold a JSON object', { where });
  }
  if (json.format === 'graph-model') {
    throw new GraftError('MODEL_MALFORMED', 'This is a TF.js graph model, not a layers model', {
      where,
      hint: 'graft reads Keras models converted with tensorflowjs_converter --output_format=tfjs_layers_model.',
    });
  }
  if (!isJsonObject(json.modelTopology)) {
    throw new GraftError('MODEL_MALFORMED', 'model.json has no "modelTopology" object', {
      where,
      hint: 'Expected a TF.js LayersModel model.json ({modelTopology, weightsManifest}).',
    });
  }
  return json;
}

function manifestOf(modelJson: JsonObject, where: string): WeightsGroup[] {
  if (modelJson.weightsManifest === undefined) return [];
  return parseWeightsManifest(modelJson.weightsManifest, where);
}

function bytesOf(data: WeightBytes): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return concat(data.map((d) => (d instanceof Uint8Array ? d : new Uint8Array(d))));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}
