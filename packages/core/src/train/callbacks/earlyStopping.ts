import { snapshotFromHost, type WeightSnapshot } from '../weightSnapshot';
import { defaultMode, improves, type Monitor, type MonitorMode, readMonitor } from './monitor';
import type { TrainerCallback } from './trainerCallback';

/**
 * Options of {@link earlyStopping}: what to monitor, its direction, patience, minimum change,
 * and whether the best weights come back at the end.
 *
 * @example
 * ```ts
 * const options: EarlyStoppingOptions = { monitor: 'val.loss', patience: 5, minDelta: 1e-3 };
 * ```
 */
export interface EarlyStoppingOptions {
  /** Default `val.loss`. */
  monitor?: Monitor;
  /** Default: `min` for losses and errors, `max` otherwise. */
  mode?: MonitorMode;
  /** Epochs without improvement before stopping. Default 3. */
  patience?: number;
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Put the best epoch's weights back when stopping or at the end. Default true. */
  restoreBestWeights?: boolean;
}

/**
 * Stops when the monitored value has not improved for `patience` epochs.
 *
 * @example
 * ```ts
 * await trainer.fit(train, { epochs: 50, validation, callbacks: [earlyStopping({ patience: 3 })] });
 * ```
 */
export function earlyStopping(options: EarlyStoppingOptions = {}): TrainerCallback {
  const monitor = options.monitor ?? 'val.loss';
  const mode = options.mode ?? defaultMode(monitor);
  const patience = options.patience ?? 3;
  const minDelta = options.minDelta ?? 0;
  const restoreBest = options.restoreBestWeights ?? true;
  let best = Number.NaN;
  let bestEpoch = -1;
  let waited = 0;
  let bestWeights: WeightSnapshot | undefined;
  return {
    onTrainBegin() {
      best = Number.NaN;
      bestEpoch = -1;
      waited = 0;
    },
    // Best value, patience counter and best weights: a resumed run stops where this one would.
    stateKey: 'earlyStopping',
    saveState: () => ({
      data: { best, bestEpoch, waited },
      ...(bestWeights ? { tensors: bestWeights.read() } : {}),
    }),
    restoreState(state) {
      ({ best, bestEpoch, waited } = state.data as {
        best: number;
        bestEpoch: number;
        waited: number;
      });
      bestWeights?.dispose();
      bestWeights = state.tensors ? snapshotFromHost(state.tensors) : undefined;
    },
    onEpochEnd(logs, control) {
      const value = readMonitor(monitor, logs, 'earlyStopping');
      if (improves(value, best, mode, minDelta)) {
        best = value;
        bestEpoch = logs.epoch;
        waited = 0;
        if (restoreBest) {
          bestWeights?.dispose();
          bestWeights = control.snapshot();
        }
        return;
      }
      waited++;
      if (waited >= patience) {
        control.stop(
          `early stopping: ${String(typeof monitor === 'string' ? monitor : 'monitor')} did not improve for ${patience} epochs (best ${best.toPrecision(4)} at epoch ${bestEpoch})`,
        );
      }
    },
    onTrainEnd(_history, control) {
      if (bestWeights) {
        control.restore(bestWeights);
        bestWeights.dispose();
        bestWeights = undefined;
      }
    },
  };
}
