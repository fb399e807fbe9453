import { GraftError } from '../errors';
import { type ExportedModel, type ExportModelOptions, exportModel } from './exportModel';
import { nodeFs } from './nodeFs';

/**
 * What {@link saveModel} wrote: the model.json path, every file, and the model in memory.
 *
 * @example
 * ```ts
 * const { modelPath, files }: SavedModel = await saveModel('out/model', { backbone: trunk });
 * ```
 */
export interface SavedModel {
  /** Path of the written model.json. */
  modelPath: string;
  /** Every file written (model.json, graft.json, shards), absolute paths. */
  files: string[];
  exported: ExportedModel;
}

/**
 * Saves a trunk and heads to a folder (Node): model.json, graft.json and the weight shards.
 * Nothing is ever half-written: each file goes to a temporary name in the folder and is
 * renamed into place; shards first, then graft.json, then model.json, whose rename is the
 * moment the new model appears. Shards of the model.json replaced are removed afterwards.
 *
 * @example
 * ```ts
 * const saved = await saveModel('out/model', { backbone: trunk, heads: [head] });
 * saved.modelPath; // '/abs/out/model/model.json'; graft.json and the shards beside it
 * ```
 */
export async function saveModel(dir: string, options: ExportModelOptions): Promise<SavedModel> {
  const exported = await exportModel(options);
  const fs = await nodeFs();
  const path = await import('node:path');
  const folder = path.resolve(dir);
  const modelPath = path.join(folder, 'model.json');
  try {
    await fs.mkdir(folder, { recursive: true });
    const previous = await previousShards(modelPath);
    const files: string[] = [];
    const write = async (name: string, data: Uint8Array | string) => {
      const target = path.join(folder, name);
      const temporary = path.join(folder, `.${name}.${process.pid}.${Date.now()}.tmp`);
      try {
        await fs.writeFile(temporary, data);
        await fs.rename(temporary, target);
      } catch (error) {
        await fs.rm(temporary, { force: true });
        throw error;
      }
      files.push(target);
    };
    for (const [name, bytes] of Object.entries(exported.shards)) await write(name, bytes);
    await write('graft.json', `${JSON.stringify(exported.sidecar, null, 2)}\n`);
    await write('model.json', JSON.stringify(exported.modelJson));
    const current = new Set(Object.keys(exported.shards));
    for (const stale of previous) {
      // Only files the old model.json listed, and only plain names inside this folder.
      if (!current.has(stale) && path.basename(stale) === stale) {
        await fs.rm(path.join(folder, stale), { force: true });
      }
    }
    return { modelPath, files, exported };
  } catch (cause) {
    if (cause instanceof GraftError) throw cause;
    throw new GraftError('EXPORT_FAILED', `Cannot write the model: ${(cause as Error).message}`, {
      where: folder,
      hint: 'Check that the folder is writable and the disk has space.',
      cause,
    });
  }
}

async function previousShards(modelPath: string): Promise<string[]> {
  const fs = await nodeFs();
  try {
    const json = JSON.parse(await fs.readFile(modelPath, 'utf8')) as {
      weightsManifest?: { paths?: unknown }[];
    };
    return (json.weightsManifest ?? []).flatMap((g) =>
      Array.isArray(g.paths) ? g.paths.filter((p): p is string => typeof p === 'string') : [],
    );
  } catch {
    return [];
  }
}
