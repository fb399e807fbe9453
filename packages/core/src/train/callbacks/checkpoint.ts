import type { EpochLogs } from '../trainingLogs';
import { defaultMode, improves, type Monitor, type MonitorMode, readMonitor } from './monitor';
import type { TrainerCallback } from './trainerCallback';

/**
 * What a checkpoint hands to `save`: host copies of every parameter.
 *
 * @example
 * ```ts
 * const saveBest = checkpoint({
 *   save: ({ epoch, weights }: Checkpoint) => console.log(`epoch ${epoch}: ${weights.size} parameters`),
 * });
 * ```
 */
export interface Checkpoint {
  readonly epoch: number;
  readonly logs: EpochLogs;
  readonly weights: ReadonlyMap<string, { shape: number[]; values: Float32Array }>;
}

/**
 * Options of {@link checkpoint}: how to save, what to monitor and in which direction, and
 * whether only improvements are saved.
 *
 * @example
 * ```ts
 * const options: CheckpointOptions = { save: writeWeights, monitor: 'val.presence/mAP', mode: 'max' };
 * ```
 */
export interface CheckpointOptions {
  /** Writes the checkpoint (e.g. with core's exporter). May be async; `fit` waits for it. */
  save(checkpoint: Checkpoint): void | Promise<void>;
  /** Default `val.loss` when validating, else `loss`. */
  monitor?: Monitor;
  mode?: MonitorMode;
  /** Only save epochs that improve the monitored value. Default true. */
  bestOnly?: boolean;
}

/**
 * Saves the weights after epochs (by default only those that improve the monitored value).
 *
 * @example
 * ```ts
 * await trainer.fit(train, {
 *   epochs: 10,
 *   validation,
 *   callbacks: [checkpoint({ save: (c) => writeWeights(c.weights) })], // best val.loss only
 * });
 * ```
 */
export function checkpoint(options: CheckpointOptions): TrainerCallback {
  const bestOnly = options.bestOnly ?? true;
  let best = Number.NaN;
  return {
    onTrainBegin() {
      best = Number.NaN;
    },
    async onEpochEnd(logs, control) {
      if (bestOnly) {
        const monitor = options.monitor ?? (logs.validation ? 'val.loss' : 'loss');
        const mode = options.mode ?? defaultMode(monitor);
        const value = readMonitor(monitor, logs, 'checkpoint');
        if (!improves(value, best, mode, 0)) return;
        best = value;
      }
      const snapshot = control.snapshot();
      try {
        await options.save({ epoch: logs.epoch, logs, weights: snapshot.read() });
      } finally {
        snapshot.dispose();
      }
    },
  };
}
