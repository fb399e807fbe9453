import type * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import type { Param } from '../nn/param';
import { disposeParams } from '../nn/paramList';
import type { Backbone } from './backbone';
import type { KerasModelSpec } from './keras/kerasTopology';
import { assembleBackbone, interpretModel, type LoadBackboneOptions } from './loadBackbone';
import { type ModelSource, readModel } from './modelSource';
import type { GraftSidecar, SidecarTask } from './sidecar';

/**
 * A model graft exported, read back: the trunk, every task head, and graft.json.
 *
 * @example
 * ```ts
 * const model: GraftModel = await loadGraftModel('runs/demo/model.json');
 * model.tasks.map((t) => t.name); // e.g. ['presence', 'lightColour', 'carCount']
 * const outputs = model.predict(x);
 * ```
 */
export interface GraftModel {
  /** The trunk, cut where graft.json says it ends. Its parameters are the model's. */
  readonly trunk: Backbone;
  readonly sidecar: GraftSidecar;
  readonly tasks: readonly SidecarTask[];
  /** Every parameter: the trunk's, then the heads' (blocks `head:<task>`). */
  readonly params: readonly Param[];
  /** Each task's prediction for a batch, by task name. */
  predict(x: tf.Tensor, options?: { training?: boolean }): Record<string, tf.Tensor>;
  dispose(): void;
}

/**
 * Reads a model saved by `saveModel` / `exportModel` (model.json, shards and graft.json) with
 * its heads. For the trunk alone, `loadBackbone` on the same files cuts at the trunk's end.
 *
 * @example
 * ```ts
 * const model = await loadGraftModel('runs/demo/model.json'); // trunk, heads and graft.json
 * console.log(model.sidecar.metrics);
 * ```
 */
export async function loadGraftModel(
  source: ModelSource,
  options: Pick<LoadBackboneOptions, 'inputShape'> = {},
): Promise<GraftModel> {
  const read = await readModel(source);
  const model = interpretModel(read);
  const { sidecar, spec } = model;
  if (!sidecar) {
    throw new GraftError('MODEL_MALFORMED', 'No graft.json beside this model', {
      where: read.where,
      hint: 'loadGraftModel reads models graft exported; use loadBackbone for other Keras models.',
    });
  }
  const outputs = sidecar.tasks.map((t) => t.output);
  const full = assembleBackbone(
    model,
    sidecar.trunk.output,
    options,
    read.where,
    outputs,
    headBlocks(spec, sidecar),
  );
  const trunk = full.cut(sidecar.trunk.output);
  return {
    trunk,
    sidecar,
    tasks: sidecar.tasks,
    params: full.params,
    predict(x, predictOptions = {}) {
      const training = predictOptions.training ?? false;
      const out = full.outputsAt(x, outputs, { training });
      const byTask: Record<string, tf.Tensor> = {};
      for (const task of sidecar.tasks) byTask[task.name] = out[task.output] as tf.Tensor;
      return byTask;
    },
    dispose() {
      disposeParams(full.params);
    },
  };
}

/** Head layers (those the trunk output does not need) belong to block `head:<task>`. */
function headBlocks(spec: KerasModelSpec, sidecar: GraftSidecar): Map<string, string> {
  const byName = new Map(spec.layers.map((l) => [l.name, l]));
  const ancestors = (name: string) => {
    const seen = new Set<string>();
    const stack = [name];
    while (stack.length > 0) {
      const n = stack.pop() as string;
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...(byName.get(n)?.inbound ?? []));
    }
    return seen;
  };
  const trunk = ancestors(sidecar.trunk.output);
  const blocks = new Map<string, string>();
  for (const task of sidecar.tasks) {
    for (const name of ancestors(task.output)) {
      if (!trunk.has(name) && !blocks.has(name)) blocks.set(name, `head:${task.name}`);
    }
  }
  return blocks;
}
