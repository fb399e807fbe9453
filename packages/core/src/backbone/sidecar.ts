import { GraftError } from '../errors';
import type { BlockInfo } from '../nn/blockNetwork';
import { isJsonObject, JsonReader, type JsonValue } from './json';
import type { Preprocessing } from './preprocessing';

/**
 * The sidecar schema version this graft writes; readers accept this version and older.
 *
 * @example
 * ```ts
 * if (sidecar.version > GRAFT_SIDECAR_VERSION) console.log('written by a newer graft');
 * ```
 */
export const GRAFT_SIDECAR_VERSION = 1;

/**
 * One task of an exported model: a Keras output of model.json.
 *
 * @example
 * ```ts
 * for (const task of model.sidecar.tasks) console.log(task.name, task.output);
 * ```
 */
export interface SidecarTask {
  /** Task name, e.g. `shape`. */
  name: string;
  /** Keras output layer that gives this task's predictions. */
  output: string;
  /** Trunk layer the head reads. */
  attachAt: string;
  /** Head kind as @graft/heads names it, e.g. `multiLabel`, `classification`, `regression`. */
  kind?: string;
  /** One name per output unit (labels, classes or regression targets). */
  labels?: string[];
  /** Decision threshold per label (multi-label) or one for all. */
  thresholds?: number[];
}

/**
 * One row of the freeze plan used for training (the shape of `FreezePlan.explain()`).
 *
 * @example
 * ```ts
 * const rows: SidecarFreezeRow[] = plan.explain().map(({ block, params, trainable, lrScale, reason }) => ({ block, params, trainable, lrScale, reason }));
 * await saveModel('out/model', { backbone: trunk, heads, freezePlan: rows });
 * ```
 */
export interface SidecarFreezeRow {
  block: string;
  params: number;
  trainable: boolean;
  lrScale: number;
  reason: string;
  /** Batch-norm mode of the block's BN layers, when the plan set one. */
  bnMode?: 'inference' | 'train';
}

/**
 * graft.json, written beside model.json: what a person or a program needs to use the model
 * that the Keras topology cannot say. Optional sections are filled by the parts of graft
 * that know them (the trainer writes metrics, the freeze package the plan).
 *
 * @example
 * ```ts
 * const sidecar: GraftSidecar = (await loadGraftModel('out/model/model.json')).sidecar;
 * sidecar.tasks.map((t) => t.name);
 * sidecar.trunk.output; // where loadBackbone cuts by default
 * ```
 */
export interface GraftSidecar {
  format: 'graft-model';
  version: number;
  /** Weight files of the model.json this sidecar belongs to; a mismatch means a stale pair. */
  weightFiles: string[];
  versions: { graft: string; tfjs: string };
  createdAt: string;
  trunk: {
    input: string;
    /** Last trunk layer; loadBackbone on the export cuts here by default. */
    output: string;
    inputShape: number[];
    blocks: BlockInfo[];
  };
  preprocessing: Preprocessing;
  tasks: SidecarTask[];
  freezePlan?: SidecarFreezeRow[];
  /** Metric name -> value, or split (e.g. `validation`) -> metric name -> value. */
  metrics?: Record<string, number | Record<string, number>>;
  /** Free-form notes on how the model was trained (dataset, epochs, seed, command). */
  training?: Record<string, JsonValue>;
}

/**
 * Reads graft.json, checking the parts graft relies on. A newer version than this graft
 * knows is an error, not a guess.
 *
 * @example
 * ```ts
 * const sidecar = parseSidecar(JSON.parse(await readFile('graft.json', 'utf8')), 'graft.json');
 * ```
 */
export function parseSidecar(value: JsonValue, where: string): GraftSidecar {
  const r = JsonReader.of(value, where);
  if (r.string('format') !== 'graft-model') {
    throw new GraftError('MODEL_MALFORMED', 'Not a graft.json sidecar', { where: r.at('format') });
  }
  const version = r.number('version');
  if (!Number.isInteger(version) || version < 1 || version > GRAFT_SIDECAR_VERSION) {
    throw new GraftError(
      'MODEL_MALFORMED',
      `graft.json version ${version} is not one this graft reads (1..${GRAFT_SIDECAR_VERSION})`,
      {
        where: r.at('version'),
        hint: 'It was written by a newer graft; upgrade @graft/core.',
      },
    );
  }
  const trunk = r.object('trunk');
  trunk.string('input');
  trunk.string('output');
  trunk.shape('inputShape');
  r.array('weightFiles');
  const pre = r.object('preprocessing');
  for (const key of ['inputRange', 'mean', 'std', 'size']) {
    if (!pre.array(key).every((v) => typeof v === 'number'))
      throw pre.bad(key, 'numbers', pre.raw(key));
  }
  r.array('tasks').forEach((t, i) => {
    const task = JsonReader.of(t, r.at(`tasks[${i}]`));
    task.string('name');
    task.string('output');
    task.string('attachAt');
  });
  if (!isJsonObject(value))
    throw new GraftError('MODEL_MALFORMED', 'Expected an object', { where });
  return value as unknown as GraftSidecar;
}
