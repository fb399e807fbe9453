import { GraftError } from '../../errors';
import type { EpochLogs } from '../trainingLogs';

/**
 * A quantity a callback watches: `loss` (training), `val.loss`, `val.<metric>` such as
 * `val.presence/mAP`, `val.<task>.loss`, or a function of the epoch's logs.
 *
 * @example
 * ```ts
 * const byMap: Monitor = 'val.presence/mAP';
 * const custom: Monitor = (logs) => logs.validation?.loss ?? logs.loss;
 * ```
 */
export type Monitor = string | ((logs: EpochLogs) => number);

/**
 * Whether a monitored value should fall (`min`: losses, errors) or rise (`max`: scores).
 *
 * @example
 * ```ts
 * const stop = earlyStopping({ monitor: 'val.presence/mAP', mode: 'max' satisfies MonitorMode });
 * ```
 */
export type MonitorMode = 'min' | 'max';

/** Losses and errors fall; scores rise. */
export function defaultMode(monitor: Monitor): MonitorMode {
  if (typeof monitor === 'function') return 'min';
  return /(loss|mae|rmse|mse|error)$/i.test(monitor) ? 'min' : 'max';
}

/** The monitored value in an epoch's logs, or a GraftError listing what can be monitored. */
export function readMonitor(monitor: Monitor, logs: EpochLogs, where: string): number {
  if (typeof monitor === 'function') return monitor(logs);
  if (monitor === 'loss') return logs.loss;
  const val = logs.validation;
  if (monitor.startsWith('val.') && val) {
    const name = monitor.slice(4);
    if (name === 'loss') return val.loss;
    if (name.endsWith('.loss') && name.slice(0, -5) in val.taskLosses) {
      return val.taskLosses[name.slice(0, -5)] as number;
    }
    const metric = val.metrics[name];
    if (metric !== undefined) return metric;
  }
  const known = [
    'loss',
    ...(val
      ? ['val.loss', ...Object.keys(val.taskLosses).map((t) => `val.${t}.loss`)].concat(
          Object.keys(val.metrics).map((m) => `val.${m}`),
        )
      : []),
  ];
  throw new GraftError(
    'INVALID_ARGUMENT',
    `Cannot monitor "${monitor}": the logs have no such value`,
    {
      where,
      hint: `Known: ${known.join(', ')}.${val ? '' : ' Validation values need fit(..., { validation }).'}`,
    },
  );
}

/** Whether `value` beats `best` by more than `minDelta` in the given direction. */
export function improves(
  value: number,
  best: number,
  mode: MonitorMode,
  minDelta: number,
): boolean {
  if (!Number.isFinite(value)) return false;
  if (!Number.isFinite(best)) return true;
  return mode === 'min' ? value < best - minDelta : value > best + minDelta;
}
