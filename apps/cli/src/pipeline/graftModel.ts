import { access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GraftError, type GraftModel, loadGraftModel } from '@graft/core';

/**
 * Loads a model graft saved (a run directory, or the folder / path of its model.json). A
 * missing folder, a model without graft.json, or a file that is not a model is one clear
 * error naming the path.
 */
export async function loadRunModel(path: string): Promise<GraftModel> {
  const modelJson = path.endsWith('.json') ? path : join(path, 'model.json');
  const exists = (p: string) =>
    access(p).then(
      () => true,
      () => false,
    );
  if (!(await exists(modelJson))) {
    throw new GraftError('MODEL_NOT_FOUND', `No model.json at ${modelJson}`, {
      where: path,
      hint: 'Pass the run directory `graft train` wrote (it holds model.json and graft.json).',
    });
  }
  // A bare Keras / TF.js model has no heads to predict with: say what the command wants
  // instead (and what to do with such a model) rather than a library-level message.
  if (!(await exists(join(dirname(modelJson), 'graft.json')))) {
    throw new GraftError(
      'MODEL_MALFORMED',
      `Not a model graft train wrote: no graft.json beside ${modelJson}`,
      {
        hint: 'predict and eval take the run directory `graft train` wrote. To train heads on this model, name it as backbone.source in a train config.',
      },
    );
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
