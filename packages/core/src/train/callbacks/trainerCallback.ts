import type { Param } from '../../nn/param';
import type { EpochLogs, History, StepLogs } from '../trainingLogs';
import type { CallbackState, TrainingState } from '../trainingState';
import type { WeightSnapshot } from '../weightSnapshot';

/**
 * What a callback may do to the run it watches.
 *
 * @example
 * ```ts
 * const keepState: TrainerCallback = {
 *   onEpochEnd: async (_logs, control: TrainingControl) => {
 *     await writeFile('state.bin', encodeTrainingState(control.state()));
 *   },
 * };
 * ```
 */
export interface TrainingControl {
  /** Ends training after the current step; `fit` returns with `history.stopReason`. */
  stop(reason: string): void;
  /** Every model parameter's current value (no copy); dispose it when done. */
  snapshot(): WeightSnapshot;
  /** Puts a snapshot's values back. */
  restore(snapshot: WeightSnapshot): void;
  readonly params: readonly Param[];
  /**
   * The run's full state (see `Trainer.state`). From `onStepEnd` it resumes after that step;
   * from `onEpochEnd`, at the start of the next epoch.
   */
  state(): TrainingState;
}

/**
 * Hooks into `Trainer.fit`. Every hook is optional and may be async.
 *
 * @example
 * ```ts
 * const logLoss: TrainerCallback = {
 *   onStepEnd: (s) => console.log(`step ${s.step}: ${s.loss.toFixed(3)}`),
 *   onEpochEnd: (logs, control) => { if (logs.loss < 0.01) control.stop('converged'); },
 * };
 * ```
 */
export interface TrainerCallback {
  onTrainBegin?(control: TrainingControl): void | Promise<void>;
  onEpochBegin?(epoch: number, control: TrainingControl): void | Promise<void>;
  onStepEnd?(logs: StepLogs, control: TrainingControl): void | Promise<void>;
  onEpochEnd?(logs: EpochLogs, control: TrainingControl): void | Promise<void>;
  onTrainEnd?(history: History, control: TrainingControl): void | Promise<void>;
  /**
   * A callback whose decisions depend on earlier epochs (early stopping's best value and
   * weights) saves that in the training state under this key, so a resumed run decides alike.
   */
  readonly stateKey?: string;
  saveState?(): CallbackState;
  /** Called after `onTrainBegin` when `fit` resumes, with what `saveState` returned. */
  restoreState?(state: CallbackState): void;
}
