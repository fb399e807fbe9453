import type { LabelStats } from './labelStats';

/**
 * One warning of {@link balanceWarnings}: the task, what kind of imbalance, and a message.
 *
 * @example
 * ```ts
 * for (const w of balanceWarnings(await labelStats(data))) console.warn(`${w.task}: ${w.message}`);
 * ```
 */
export interface BalanceWarning {
  task: string;
  kind: 'fewLabels' | 'noPositives' | 'allPositive' | 'classMissing';
  message: string;
}

/**
 * Options of {@link balanceWarnings}: the fraction of the best-labelled task below which a task
 * counts as having few labels.
 *
 * @example
 * ```ts
 * const warnings = balanceWarnings(stats, { minRatio: 0.25 } satisfies BalanceWarningOptions);
 * ```
 */
export interface BalanceWarningOptions {
  /**
   * Warn when a task has fewer labelled examples than this fraction of the best-labelled
   * task. Default 0.5. The source notes: multi-task learning helps when "the amount of data
   * you have for each task is quite similar".
   */
  minRatio?: number;
}

/**
 * Warnings a person should see before training several tasks together: a task with far
 * fewer labels than the others (its head learns from much less data and the shared trunk
 * mostly serves the others), a label that is never or always positive, a class never seen.
 *
 * @example
 * ```ts
 * const warnings = balanceWarnings(await labelStats(data));
 * // e.g. [{ task: 'carCount', kind: 'fewLabels', message: '...' }]
 * ```
 */
export function balanceWarnings(
  stats: LabelStats,
  options: BalanceWarningOptions = {},
): BalanceWarning[] {
  const minRatio = options.minRatio ?? 0.5;
  const warnings: BalanceWarning[] = [];
  const entries = Object.entries(stats.tasks);
  const most = Math.max(0, ...entries.map(([, t]) => t.labelled));
  const best = entries.find(([, t]) => t.labelled === most)?.[0];
  for (const [task, t] of entries) {
    if (entries.length > 1 && t.labelled < minRatio * most) {
      warnings.push({
        task,
        kind: 'fewLabels',
        message: `task "${task}" has ${t.labelled} labelled examples, ${((100 * t.labelled) / Math.max(1, most)).toFixed(0)}% of "${best}" (${most}); multi-task learning works best when tasks have similar amounts of data`,
      });
    }
    for (const l of t.labels ?? []) {
      if (l.labelled > 0 && l.positives === 0) {
        warnings.push({
          task,
          kind: 'noPositives',
          message: `label "${l.label}" of task "${task}" is never positive`,
        });
      } else if (l.labelled > 0 && l.positives === l.labelled) {
        warnings.push({
          task,
          kind: 'allPositive',
          message: `label "${l.label}" of task "${task}" is always positive`,
        });
      }
    }
    for (const [cls, count] of Object.entries(t.classCounts ?? {})) {
      if (count === 0 && t.labelled > 0) {
        warnings.push({
          task,
          kind: 'classMissing',
          message: `class "${cls}" of task "${task}" has no examples`,
        });
      }
    }
  }
  return warnings;
}
