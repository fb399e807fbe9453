import type { EpochLogs } from '../trainingLogs';
import type { TrainerCallback } from './trainerCallback';

/**
 * Options of {@link progress}: where lines go, how often a step line is printed, and the total
 * epochs.
 *
 * @example
 * ```ts
 * const options: ProgressOptions = { everySteps: 50, epochs: 10, log: (line) => process.stderr.write(`${line}\n`) };
 * ```
 */
export interface ProgressOptions {
  /** Where lines go. Default `console.log`. */
  log?: (line: string) => void;
  /** Also print a line every this many steps. Default 0 (epochs only). */
  everySteps?: number;
  /** Total epochs, for "epoch 3/10". */
  epochs?: number;
}

/**
 * One line per epoch: losses per task, validation loss and metrics, time.
 *
 * @example
 * ```ts
 * await trainer.fit(train, { epochs: 5, callbacks: [progress({ epochs: 5 })] });
 * ```
 */
export function progress(options: ProgressOptions = {}): TrainerCallback {
  const log = options.log ?? ((line: string) => console.log(line));
  const every = options.everySteps ?? 0;
  return {
    onStepEnd(s) {
      if (every > 0 && s.step % every === 0) {
        log(`  step ${s.step}  loss ${fmt(s.loss)}  lr ${s.learningRate.toExponential(2)}`);
      }
    },
    onEpochEnd(logs) {
      log(formatEpoch(logs, options.epochs));
    },
  };
}

/**
 * "epoch 2/5  loss 0.4132 (presence 0.31, lightColour 0.10)  val 0.45 presence/mAP 0.81  3.1s"
 *
 * @example
 * ```ts
 * formatEpoch(logs, 5); // 'epoch 2/5  loss 0.4132 (presence 0.31, ...)  val 0.45 ...  3.1s'
 * ```
 */
export function formatEpoch(logs: EpochLogs, epochs?: number): string {
  const of = epochs ? `/${epochs}` : '';
  const tasks = Object.entries(logs.taskLosses)
    .map(([t, l]) => `${t} ${fmt(l)}`)
    .join(', ');
  let line = `epoch ${logs.epoch + 1}${of}  loss ${fmt(logs.loss)}${tasks ? ` (${tasks})` : ''}`;
  const val = logs.validation;
  if (val) {
    const metrics = Object.entries(val.metrics)
      .map(([m, v]) => `${m} ${fmt(v)}`)
      .join('  ');
    line += `  val loss ${fmt(val.loss)}${metrics ? `  ${metrics}` : ''}`;
  }
  return `${line}  ${logs.seconds.toFixed(1)}s`;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(4) : String(v);
}
