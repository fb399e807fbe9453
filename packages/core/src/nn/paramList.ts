import type * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import type { Param } from './param';

/**
 * Throws PARAM_DUPLICATE when two parameters share a name. Names are the keys of plans,
 * checkpoints and exports, so a duplicate would silently alias two tensors.
 *
 * @example
 * ```ts
 * assertUniqueParamNames([...trunk.params, ...head.params()], 'my model'); // PARAM_DUPLICATE if two share a name
 * ```
 */
export function assertUniqueParamNames(params: readonly Param[], where: string): void {
  const seen = new Set<string>();
  for (const p of params) {
    if (seen.has(p.name)) {
      throw new GraftError('PARAM_DUPLICATE', `Two parameters are named "${p.name}"`, {
        where,
        hint: 'Give every layer a unique name; parameter names are "<layer>/<weight>".',
      });
    }
    seen.add(p.name);
  }
}

/**
 * The parameter called `name`, or PARAM_NOT_FOUND naming a few that exist.
 *
 * @example
 * ```ts
 * const kernel = findParam(trunk.params, 'Conv1/kernel', 'my script');
 * ```
 */
export function findParam(params: readonly Param[], name: string, where: string): Param {
  const found = params.find((p) => p.name === name);
  if (found) return found;
  const layer = name.split('/')[0] ?? name;
  const near = params.filter((p) => p.name.startsWith(layer)).map((p) => p.name);
  const examples = (near.length > 0 ? near : params.map((p) => p.name)).slice(0, 5);
  throw new GraftError('PARAM_NOT_FOUND', `No parameter named "${name}"`, {
    where,
    hint:
      examples.length > 0
        ? `Known names include: ${examples.join(', ')}.`
        : 'The model has no parameters.',
  });
}

/**
 * Number of scalar values over all parameters (what Keras's `count_params()` reports).
 *
 * @example
 * ```ts
 * countParams(pretrainedBackbone().params); // scalars, as Keras's count_params()
 * ```
 */
export function countParams(params: readonly Param[]): number {
  return params.reduce((n, p) => n + p.variable.size, 0);
}

/**
 * The variables an optimizer should update: the trainable ones, in parameter order.
 *
 * @example
 * ```ts
 * const vars = trainableVariables(model.params); // what an optimizer updates
 * ```
 */
export function trainableVariables(params: readonly Param[]): tf.Variable[] {
  return params.filter((p) => p.trainable).map((p) => p.variable);
}

/**
 * Releases every parameter's variable.
 *
 * @example
 * ```ts
 * disposeParams(net.params); // releases every variable
 * ```
 */
export function disposeParams(params: readonly Param[]): void {
  for (const p of params) p.variable.dispose();
}
