/**
 * What one training step reports to callbacks.
 *
 * @example
 * ```ts
 * const cb: TrainerCallback = { onStepEnd: (s: StepLogs) => console.log(s.epoch, s.step, s.loss) };
 * ```
 */
export interface StepLogs {
  /** 0-based epoch. */
  readonly epoch: number;
  /** 1-based global step. */
  readonly step: number;
  /** 0-based batch index within the epoch. */
  readonly batch: number;
  /** The minimised (weighted) loss. */
  readonly loss: number;
  readonly learningRate: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
}

/**
 * Losses and metrics of one pass over held-out data.
 *
 * @example
 * ```ts
 * const { loss, taskLosses, metrics }: Evaluation = await trainer.evaluate(test);
 * metrics['presence/mAP'];
 * ```
 */
export interface Evaluation {
  /** Sum over tasks of each task's mean loss (unweighted, so strategies compare). */
  readonly loss: number;
  /** Per task: mean loss over its labelled entries. Tasks with no labels are absent. */
  readonly taskLosses: Readonly<Record<string, number>>;
  /** Per task: how many labelled entries (mask sum) the pass saw. */
  readonly labelled: Readonly<Record<string, number>>;
  /** Named metrics, e.g. `presence/mAP` (empty without a metrics provider). */
  readonly metrics: Readonly<Record<string, number>>;
  /** The metrics provider's full report. */
  readonly report?: unknown;
}

/**
 * What one epoch reports.
 *
 * @example
 * ```ts
 * const cb: TrainerCallback = {
 *   onEpochEnd: (logs: EpochLogs) => console.log(logs.epoch, logs.loss, logs.taskLosses, logs.validation?.metrics),
 * };
 * ```
 */
export interface EpochLogs {
  /** 0-based. */
  readonly epoch: number;
  readonly steps: number;
  /** Mean minimised loss over the epoch's steps. */
  readonly loss: number;
  /** Per task: mean unweighted loss over the labelled entries. Tasks with no labels are absent. */
  readonly taskLosses: Readonly<Record<string, number>>;
  readonly labelled: Readonly<Record<string, number>>;
  /** The gradient strategy's task weights at the end of the epoch. */
  readonly taskWeights: Readonly<Record<string, number>>;
  /** Learning rate of the epoch's last step. */
  readonly learningRate: number;
  readonly seconds: number;
  /** Present when `fit` was given validation data. */
  readonly validation?: Evaluation;
}

/**
 * What {@link Trainer.fit} returns: every epoch's logs, and why it stopped early if it did.
 *
 * @example
 * ```ts
 * const history: History = await trainer.fit(train, { epochs: 10, callbacks: [earlyStopping()] });
 * console.log(history.epochs.length, history.stopReason);
 * ```
 */
export interface History {
  readonly epochs: EpochLogs[];
  /** Set when a callback stopped training early, with its reason. */
  stopReason?: string;
}
