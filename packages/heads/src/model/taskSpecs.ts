import { GraftError } from '@graft/errors';
import { classification } from '../heads/classification';
import { multiLabel } from '../heads/multiLabel';
import { regression } from '../heads/regression';
import type { HeadOptions, TaskHead } from '../heads/taskHead';

/**
 * What a dataset says about one task (structurally `@graft/datasets`' `TaskSpec`; heads does
 * not depend on datasets).
 *
 * @example
 * ```ts
 * const specs: Record<string, TaskSpecLike> = {
 *   presence: { kind: 'multiLabel', labels: ['car', 'bus'] },
 *   carCount: { kind: 'regression', outputs: 1 },
 * };
 * const heads = headsFor(specs, { hidden: [32] });
 * ```
 */
export type TaskSpecLike =
  | { readonly kind: 'multiLabel'; readonly labels: readonly string[] }
  | { readonly kind: 'classification'; readonly classes: readonly string[] }
  | { readonly kind: 'regression'; readonly outputs: number };

/**
 * One head per task spec, with the same head options for all (linear heads by default).
 *
 * @example
 * ```ts
 * const model = multiTaskModel({ backbone, tasks: headsFor(dataset.tasks, { hidden: [64] }) });
 * ```
 */
export function headsFor(
  specs: Readonly<Record<string, TaskSpecLike>>,
  options: HeadOptions = {},
): Record<string, TaskHead> {
  const heads: Record<string, TaskHead> = {};
  for (const [task, spec] of Object.entries(specs)) {
    if (spec.kind === 'multiLabel') heads[task] = multiLabel({ ...options, labels: spec.labels });
    else if (spec.kind === 'classification')
      heads[task] = classification({ ...options, classes: spec.classes });
    else heads[task] = regression({ ...options, outputs: spec.outputs });
  }
  return heads;
}

/**
 * Throws unless the data has every head's task with the same kind and label set (names and
 * order): TASK_NOT_FOUND, TARGET_MISMATCH (kind or output count) or LABELS_MISMATCH. Tasks
 * the data has and the model lacks are fine: a model may train a subset.
 *
 * @example
 * ```ts
 * checkTaskSpecs(model.heads, dataset.tasks); // throws LABELS_MISMATCH if the labels differ
 * ```
 */
export function checkTaskSpecs(
  heads: Readonly<Record<string, TaskHead>>,
  specs: Readonly<Record<string, TaskSpecLike>>,
): void {
  for (const [task, head] of Object.entries(heads)) {
    const spec = specs[task];
    const where = `task "${task}"`;
    if (!spec) {
      throw new GraftError('TASK_NOT_FOUND', `The data has no task "${task}"`, {
        where: 'checkTaskSpecs',
        hint: `The data's tasks: ${Object.keys(specs).join(', ') || 'none'}.`,
      });
    }
    if (spec.kind !== head.kind) {
      throw new GraftError(
        'TARGET_MISMATCH',
        `The data has a ${spec.kind} task where the model has a ${head.kind} head`,
        { where },
      );
    }
    const dataNames =
      spec.kind === 'multiLabel'
        ? spec.labels
        : spec.kind === 'classification'
          ? spec.classes
          : null;
    if (dataNames && dataNames.join('\u0000') !== head.outputNames.join('\u0000')) {
      throw new GraftError(
        'LABELS_MISMATCH',
        `The data's ${spec.kind === 'multiLabel' ? 'labels' : 'classes'} (${dataNames.join(', ')}) differ from the head's (${head.outputNames.join(', ')})`,
        {
          where,
          hint: 'Names and order must match: column j of the targets is output j of the head. Build the heads with headsFor(dataset.tasks).',
        },
      );
    }
    if (spec.kind === 'regression' && spec.outputs !== head.units) {
      throw new GraftError(
        'TARGET_MISMATCH',
        `The data has ${spec.outputs} regression output(s), the head ${head.units}`,
        { where },
      );
    }
  }
}
