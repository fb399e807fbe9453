import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { GraftError, type GraftModel, loadGraftModel } from '@graft/core';

/**
 * Loads a model graft saved (a run directory, or the folder / path of its model.json). A
 * missing folder, a model without graft.json, or a file that is not a model is one clear
 * error naming the path.
 */
export async function loadRunModel(path: string): Promise<GraftModel> {
  const modelJson = path.endsWith('.json') ? path : join(path, 'model.json');
  const exists = await access(modelJson).then(
    () => true,
    () => false,
  );
  if (!exists) {
    throw new GraftError('MODEL_NOT_FOUND', `No model.json at ${modelJson}`, {
      where: path,
      hint: 'Pass the run directory `graft train` wrote (it holds model.json and graft.json).',
    });
  }
  try {
    return await loadGraftModel(modelJson);
  } catch (cause) {
    if (cause instanceof GraftError) throw cause;
    throw new GraftError('MODEL_MALFORMED', `Cannot read the model: ${(cause as Error).message}`, {
      where: modelJson,
      cause,
    });
  }
}
