import * as tf from '@tensorflow/tfjs-core';
import { isOutOfMemory, takeWasmKernelFailure } from '../backend/wasmKernelFailures';
import { GraftError } from '../errors';
import { setVariable } from '../kernels/heapViews';
import { isMovingStatistic, type Param } from '../nn/param';
import { batchRows, replicaRows } from '../parallel/batchRows';
import type { ReplicaGroup } from '../parallel/replicaGroup';
import { ReducedGradients } from '../parallel/replicaTensors';
import {
  type LocalStep,
  packStep,
  replicaWeight,
  type StepExchangeLayout,
  scaledExchangeLength,
  stepExchangeLength,
  unpackStep,
} from '../parallel/stepExchange';
import { withSharedTapeSaves } from '../tape/sharedTapeSaves';
import { type Batch, batchTensors, knownBatchCount, passOver, type TrainingData } from './batch';
import type { BatchMetrics } from './batchMetrics';
import type { TrainerCallback, TrainingControl } from './callbacks/trainerCallback';
import { eventLoopTurns } from './eventLoopTurns';
import {
  type CachedForward,
  DEFAULT_FEATURE_CACHE_BYTES,
  type FeatureCacheMode,
  FeatureCachePass,
} from './featureCachePass';
import {
  equalWeights,
  type GradientStrategy,
  type GradientStrategyContext,
} from './gradientStrategy';
import type { OptimizerSpec } from './optimizer/optimizerSpec';
import { type OptimizerEntry, ParamOptimizer } from './optimizer/paramOptimizer';
import { constantSchedule, type LearningRateSchedule } from './schedules';
import type { TaskLossFunction, TrainableModel } from './trainableModel';
import { applyPlan, type TrainablePlan } from './trainablePlan';
import type { EpochLogs, Evaluation, History, StepLogs } from './trainingLogs';
import {
  type CallbackState,
  copyCursor,
  type FitCursor,
  newCursor,
  readParams,
  startEpoch,
  type TrainingState,
  writeParams,
} from './trainingState';
import { copyParams, type HostCopy, restoreParams, snapshotParams } from './weightSnapshot';

/**
 * Options of {@link Trainer}: the model, losses, freeze plan, optimizer, schedule, gradient
 * strategy, clipping, metrics, feature cache, and where warnings and notes go.
 *
 * @example
 * ```ts
 * const options: TrainerOptions = {
 *   model,
 *   plan: ruleOfThumb({ labelled: 500 }).plan(model),
 *   optimizer: { type: 'adamw', learningRate: 2e-3, weightDecay: 1e-4 },
 *   schedule: cosineSchedule(),
 *   clipNorm: 1,
 * };
 * ```
 */
export interface TrainerOptions {
  model: TrainableModel;
  /** Per-task masked losses. Default: the model's own `loss`. */
  loss?: TaskLossFunction;
  /** Which parameters train and at what learning-rate scale (e.g. a `@graft/freeze` plan). */
  plan?: TrainablePlan;
  /** Default Adam at 1e-3. */
  optimizer?: OptimizerSpec;
  /** Default constant. */
  schedule?: LearningRateSchedule;
  /** How task losses become gradients. Default: equal weights. */
  strategy?: GradientStrategy;
  /** Clip the global gradient norm to this. Default: no clipping. */
  clipNorm?: number;
  /** Metrics for `evaluate` and validation. Default: the model's own `metrics`. */
  metrics?: () => BatchMetrics;
  /** Receives warnings (a task without labels for a whole epoch). Default `console.warn`. */
  onWarning?: (message: string) => void;
  /**
   * Train the heads on cached trunk features while the plan freezes the whole trunk and the
   * batches are un-augmented with stable ids (`auto`, the default), or never (`off`).
   */
  featureCache?: FeatureCacheMode;
  /** Host memory the feature cache may use. Default 512 MiB. */
  featureCacheBytes?: number;
  /** Receives notes on what the Trainer decided (feature cache on or off, and why). Default: none. */
  onInfo?: (message: string) => void;
  /**
   * Train as one replica of a data-parallel group (see `fitDataParallel`, which sets this):
   * every replica runs the same Trainer on the same batches, trains on its own rows of each
   * batch, and applies the group's row-weighted mean gradient, so the replicas stay
   * identical. Batch norm then normalises over each replica's rows.
   */
  dataParallel?: ReplicaGroup;
}

/**
 * Options of {@link Trainer.fit}: epochs, validation data, callbacks, steps per epoch for
 * streams, and a state to resume from.
 *
 * @example
 * ```ts
 * const options: FitOptions = { epochs: 10, validation, callbacks: [progress({ epochs: 10 })] };
 * const history = await trainer.fit(train, options);
 * ```
 */
export interface FitOptions {
  epochs: number;
  /** Held-out data evaluated after every epoch; its numbers are in `logs.validation`. */
  validation?: TrainingData;
  callbacks?: readonly TrainerCallback[];
  /** Batches per epoch, for schedules, when the training data cannot say (a stream). */
  stepsPerEpoch?: number;
  /**
   * Continue a run from `trainer.state()` (taken in a callback or after `fit` stopped),
   * with the same data, epochs and settings: the result is the uninterrupted run's.
   */
  resumeFrom?: TrainingState;
}

interface StepResult {
  loss: number;
  taskLosses: number[];
  labelled: number[];
  gradNorm: number;
  learningRate: number;
}

/** Who trains in the current epoch. */
interface TrainableSets {
  params: Param[];
  shared: Param[];
  taskSpecific: Record<string, Param[]>;
  variables: tf.Variable[];
}

/**
 * Trains a `TrainableModel`: epochs over batches, gradients for trainable parameters only,
 * one optimizer over parameter groups (learning rate x the plan's lrScale, weight decay by
 * kind), a schedule, gradient clipping, callbacks, and a NaN/Inf guard that stops with a
 * clear message and keeps the last good weights.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, optimizer: { type: 'adamw', learningRate: 1e-3 } });
 * const history = await trainer.fit(trainBatches, { epochs: 5, validation: valBatches });
 * const test = await trainer.evaluate(testBatches);
 * ```
 */
export class Trainer {
  readonly model: TrainableModel;
  readonly optimizer: ParamOptimizer;
  readonly strategy: GradientStrategy;
  readonly schedule: LearningRateSchedule;
  private readonly loss: TaskLossFunction;
  private readonly plan: TrainablePlan | undefined;
  private readonly clipNorm: number;
  private readonly metrics: (() => BatchMetrics) | undefined;
  private readonly warn: (message: string) => void;
  private readonly featureCache: { mode: FeatureCacheMode; maxBytes: number };
  private readonly info: (message: string) => void;
  private readonly statistics: Param[];
  private readonly group: ReplicaGroup | undefined;
  /** A replica's averaged gradients, refilled every step (freed when fit returns). */
  private readonly reducedGradients = new ReducedGradients();
  private activePlan: TrainablePlan | undefined;
  private lrScales = new Map<string, number>();
  private sets: TrainableSets | undefined;
  private globalStep = 0;
  private cursor: FitCursor;
  /** The running `fit`'s callbacks, whose state `state()` includes. */
  private callbacks: readonly TrainerCallback[] = [];

  constructor(options: TrainerOptions) {
    const { model } = options;
    if (model.tasks.length === 0) {
      throw new GraftError('INVALID_ARGUMENT', 'The model has no tasks', {
        where: 'Trainer',
        hint: 'Give the model at least one task head.',
      });
    }
    for (const task of Object.keys(model.taskParams)) {
      if (!model.tasks.includes(task)) throw unknownTask(task, model.tasks, 'model.taskParams');
    }
    const loss = options.loss ?? model.loss;
    if (!loss) {
      throw new GraftError('INVALID_ARGUMENT', 'No loss function', {
        where: 'Trainer',
        hint: 'Pass options.loss, or use a model that carries its own loss (multiTaskModel).',
      });
    }
    this.model = model;
    this.loss = loss;
    this.plan = options.plan;
    this.optimizer = new ParamOptimizer(options.optimizer ?? { type: 'adam', learningRate: 1e-3 });
    this.schedule = options.schedule ?? constantSchedule();
    this.strategy = options.strategy ?? equalWeights();
    this.strategy.init?.(model.tasks);
    this.clipNorm = options.clipNorm ?? 0;
    if (!(this.clipNorm >= 0)) {
      throw new GraftError('INVALID_ARGUMENT', `clipNorm must be >= 0, got ${this.clipNorm}`, {
        where: 'Trainer',
      });
    }
    this.metrics =
      options.metrics ?? (model.metrics ? () => model.metrics?.() as BatchMetrics : undefined);
    this.warn = options.onWarning ?? ((m) => console.warn(m));
    this.info = options.onInfo ?? (() => {});
    this.featureCache = {
      mode: options.featureCache ?? 'auto',
      maxBytes: options.featureCacheBytes ?? DEFAULT_FEATURE_CACHE_BYTES,
    };
    this.statistics = model.params.filter((p) => isMovingStatistic(p.kind));
    this.cursor = newCursor(model.tasks.length);
    this.group = options.dataParallel;
    if (this.group && this.strategy.perStepHostState) {
      throw new GraftError(
        'INVALID_ARGUMENT',
        `The ${this.strategy.name} task weighting cannot train data-parallel`,
        {
          where: 'Trainer',
          hint: "It updates its weights from each batch's gradients outside the model, so the replicas would drift apart. Use one replica, or another weighting (equal, static, uncertainty, dwa, pcgrad).",
        },
      );
    }
  }

  /**
   * Everything needed to continue this run exactly (see `TrainingState`): call it from a
   * callback, after a step or an epoch (`control.state()`), and pass it to
   * `fit(data, { resumeFrom })` on a trainer built the same way; `encodeTrainingState`
   * turns it into bytes. (After a mid-epoch stop, `fit` still closes that epoch, so take the
   * state in `onStepEnd` to resume mid-epoch.)
   *
   * @example
   * ```ts
   * const state = trainer.state();
   * await writeFile('state.bin', encodeTrainingState(state));
   * ```
   */
  state(): TrainingState {
    const strategy = this.strategy.state?.();
    const callbacks = new Map<string, CallbackState>();
    for (const cb of this.callbacks) {
      if (cb.stateKey && cb.saveState) callbacks.set(cb.stateKey, cb.saveState());
    }
    return {
      version: 1,
      globalStep: this.globalStep,
      cursor: copyCursor(this.cursor),
      params: readParams(this.everyParam()),
      optimizer: this.optimizer.readState(),
      ...(strategy !== undefined ? { strategy } : {}),
      ...(callbacks.size > 0 ? { callbacks } : {}),
    };
  }

  /** Global steps trained so far, over every `fit` call. */
  get step(): number {
    return this.globalStep;
  }

  /**
   * Trains for `options.epochs` epochs over `data` (evaluating `options.validation` after each),
   * running the callbacks, and returns every epoch's logs.
   *
   * @example
   * ```ts
   * const history = await trainer.fit(batchSource(train, { batchSize: 32, shuffle: true, seed: 1 }), {
   *   epochs: 5,
   *   validation: batchSource(validation, { batchSize: 64 }),
   *   callbacks: [progress({ epochs: 5 })],
   * });
   * ```
   */
  async fit(data: TrainingData, options: FitOptions): Promise<History> {
    if (!this.group) return this.run(data, options);
    try {
      return await this.run(data, options);
    } catch (e) {
      // Whatever failed here (a step, a callback, the data), the other replicas must not
      // wait for this one at the next exchange: they stop with REPLICA_FAILED.
      this.group.fail();
      throw e;
    } finally {
      this.reducedGradients.dispose();
    }
  }

  private async run(data: TrainingData, options: FitOptions): Promise<History> {
    const { epochs } = options;
    if (!(Number.isInteger(epochs) && epochs >= 1)) {
      throw new GraftError(
        'INVALID_ARGUMENT',
        `epochs must be a whole number >= 1, got ${epochs}`,
        {
          where: 'Trainer.fit',
        },
      );
    }
    // A failure reported before this fit (by other work) is not this run's to raise.
    takeWasmKernelFailure();
    const perEpoch = options.stepsPerEpoch ?? knownBatchCount(data);
    if (this.schedule.needsTotal && perEpoch === undefined) {
      throw new GraftError(
        'INVALID_ARGUMENT',
        `The ${this.schedule.name} schedule needs the number of steps, and the training data cannot say`,
        {
          where: 'Trainer.fit',
          hint: 'Pass stepsPerEpoch, or give a BatchSource with batchCount (or an array of batches).',
        },
      );
    }
    const totalSteps = (perEpoch ?? 0) * epochs;
    const callbacks = options.callbacks ?? [];
    this.callbacks = callbacks;
    const resume = options.resumeFrom;
    if (resume) this.restoreState(resume);
    else this.cursor = newCursor(this.model.tasks.length);
    const cursor = this.cursor;
    const history: History = { epochs: cursor.history };
    // A run that a callback had stopped (early stopping) stays stopped when resumed.
    let stopReason: string | undefined = resume?.cursor.stopReason;
    const everything = this.everyParam();
    const control: TrainingControl = {
      stop: (reason) => {
        stopReason ??= reason;
        cursor.stopReason ??= reason;
      },
      snapshot: () => snapshotParams(everything),
      restore: (snapshot) => restoreParams(everything, snapshot),
      params: this.model.params,
      state: () => this.state(),
    };
    for (const cb of callbacks) await cb.onTrainBegin?.(control);
    for (const cb of callbacks) {
      const saved = cb.stateKey ? resume?.callbacks?.get(cb.stateKey) : undefined;
      if (saved) cb.restoreState?.(saved);
    }
    const cache = new FeatureCachePass(this.model, { ...this.featureCache, log: this.info });
    const firstEpoch = cursor.epoch;
    // Replicas of a data-parallel group stop only when the group agrees (in a step's exchange),
    // so that none waits for the others at a step they will never take.
    let groupStopped = false;
    const running = () => (this.group ? !groupStopped : stopReason === undefined);
    for (let epoch = firstEpoch; epoch < epochs && running(); epoch++) {
      // A resumed epoch keeps its running sums and skips the batches it already trained on.
      const skip = epoch === firstEpoch && resume ? cursor.batch : 0;
      if (skip === 0) startEpoch(cursor, epoch);
      this.prepareEpoch(epoch);
      cache.beginEpoch(epoch, this.activePlan);
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch, control);
      const started = performance.now();
      const tasks = this.model.tasks;
      const { lossSums, counts } = cursor;
      let seen = 0;
      const turns = eventLoopTurns();
      for await (const { batch, owned } of passOver(data, epoch)) {
        if (seen++ < skip) {
          if (owned) tf.dispose(batchTensors(batch));
          continue;
        }
        let result: StepResult | undefined;
        try {
          result = this.group
            ? await this.replicaStep(this.group, batch, epoch, cursor.scheduleStep, totalSteps, {
                cache,
                wantsStop: stopReason !== undefined,
              })
            : this.trainStep(batch, epoch, cursor.scheduleStep, totalSteps, cache);
        } finally {
          if (owned) tf.dispose(batchTensors(batch));
        }
        if (!result) {
          // The group agreed to stop before this step: it was not applied anywhere.
          groupStopped = true;
          control.stop('stopped: another replica or the starting thread asked');
          break;
        }
        result.taskLosses.forEach((l, t) => {
          const n = result.labelled[t] as number;
          if (n > 0) lossSums[t] = (lossSums[t] as number) + l * n;
          counts[t] = (counts[t] as number) + n;
        });
        cursor.totalLoss += result.loss;
        cursor.learningRate = result.learningRate;
        const stepLogs: StepLogs = {
          epoch,
          step: this.globalStep,
          batch: cursor.batch,
          loss: result.loss,
          learningRate: result.learningRate,
          gradNorm: result.gradNorm,
        };
        cursor.batch++;
        cursor.scheduleStep++;
        for (const cb of callbacks) await cb.onStepEnd?.(stepLogs, control);
        // Signal handlers (Ctrl-C -> control.stop) and a page's input run between steps.
        await turns.maybeYield();
        if (stopReason !== undefined && !this.group) break;
      }
      const steps = cursor.batch;
      if (steps === 0 && groupStopped) break; // stopped at this epoch's first step
      if (steps === 0) {
        throw new GraftError(
          'NO_BATCHES',
          `The training data yielded no batches in epoch ${epoch + 1}`,
          {
            where: 'Trainer.fit',
            hint: 'Check the dataset size and batch size; a streaming source must yield batches on every pass.',
          },
        );
      }
      const taskLosses: Record<string, number> = {};
      const labelled: Record<string, number> = {};
      tasks.forEach((task, t) => {
        const n = counts[t] as number;
        labelled[task] = n;
        if (n > 0) taskLosses[task] = (lossSums[t] as number) / n;
        else {
          this.warn(
            `graft: task "${task}" had no labelled examples in epoch ${epoch + 1}; it contributed nothing to training (its loss is 0 there, never a division by zero). Check the task's mask, or the dataset's missing-label rate.`,
          );
        }
      });
      this.strategy.onEpochEnd?.(taskLosses, epoch);
      const validation = options.validation ? await this.evaluate(options.validation) : undefined;
      const logs: EpochLogs = {
        epoch,
        steps,
        loss: cursor.totalLoss / steps,
        taskLosses,
        labelled,
        taskWeights: this.strategy.taskWeights(),
        learningRate: cursor.learningRate,
        seconds: (performance.now() - started) / 1000,
        ...(validation ? { validation } : {}),
      };
      history.epochs.push(logs);
      startEpoch(cursor, epoch + 1);
      for (const cb of callbacks) await cb.onEpochEnd?.(logs, control);
    }
    cache.drop();
    if (stopReason !== undefined) history.stopReason = stopReason;
    for (const cb of callbacks) await cb.onTrainEnd?.(history, control);
    return history;
  }

  /**
   * Losses and metrics over `data` in inference mode (batch norm on moving statistics, no
   * dropout). Task losses are averaged over labelled entries; a task with none is left out
   * with a warning.
   *
   * @example
   * ```ts
   * const { loss, metrics, report } = await trainer.evaluate(batchSource(test, { batchSize: 64 }));
   * ```
   */
  async evaluate(data: TrainingData): Promise<Evaluation> {
    const tasks = this.model.tasks;
    const metrics = this.metrics?.();
    const lossSums = tasks.map(() => 0);
    const counts = tasks.map(() => 0);
    let batches = 0;
    takeWasmKernelFailure(); // not this evaluation's
    const turns = eventLoopTurns();
    for await (const { batch, owned } of passOver(data, 0)) {
      await turns.maybeYield();
      try {
        this.checkBatch(batch);
        const outputs = tf.tidy(() => ({ ...this.model.forward(batch.x, { training: false }) }));
        try {
          const readout = tf.tidy(() => {
            const losses = this.loss(outputs, batch);
            return tf.stack([
              ...tasks.map((t) => this.taskLoss(losses, t)),
              ...tasks.map((t) => tf.sum(batch.mask[t] as tf.Tensor)),
            ]);
          });
          const values = readout.dataSync();
          readout.dispose();
          tasks.forEach((_, t) => {
            const n = values[tasks.length + t] as number;
            if (n > 0) lossSums[t] = (lossSums[t] as number) + (values[t] as number) * n;
            counts[t] = (counts[t] as number) + n;
          });
          metrics?.update(outputs, batch);
        } finally {
          tf.dispose(Object.values(outputs));
        }
      } finally {
        if (owned) tf.dispose(batchTensors(batch));
      }
      batches++;
      // Metrics computed from a kernel's garbage output would be reported as real.
      const failure = takeWasmKernelFailure();
      if (failure !== undefined)
        throw kernelFailed(failure, 'Trainer.evaluate', `batch ${batches}`);
    }
    if (batches === 0) {
      throw new GraftError('NO_BATCHES', 'The evaluation data yielded no batches', {
        where: 'Trainer.evaluate',
      });
    }
    const taskLosses: Record<string, number> = {};
    const labelled: Record<string, number> = {};
    let loss = 0;
    tasks.forEach((task, t) => {
      const n = counts[t] as number;
      labelled[task] = n;
      if (n > 0) {
        taskLosses[task] = (lossSums[t] as number) / n;
        loss += taskLosses[task];
      } else {
        this.warn(
          `graft: task "${task}" has no labelled examples in the evaluation data; it is left out of the loss and its metrics.`,
        );
      }
    });
    const result = metrics?.result();
    return {
      loss,
      taskLosses,
      labelled,
      metrics: result?.scalars ?? {},
      ...(result?.report !== undefined ? { report: result.report } : {}),
    };
  }

  /** Puts a saved state into the model, optimizer, strategy and fit position. */
  private restoreState(state: TrainingState): void {
    if (state.cursor.lossSums.length !== this.model.tasks.length) {
      throw new GraftError(
        'CHECKPOINT_INVALID',
        `The training state has ${state.cursor.lossSums.length} tasks, the model ${this.model.tasks.length}`,
        {
          where: 'Trainer.fit resumeFrom',
          hint: 'Resume with the model the run was started with.',
        },
      );
    }
    writeParams(this.everyParam(), state.params, 'Trainer.fit resumeFrom');
    this.optimizer.writeState(state.optimizer);
    if (state.strategy !== undefined) this.strategy.restoreState?.(state.strategy);
    this.globalStep = state.globalStep;
    this.cursor = copyCursor(state.cursor);
    // The plan is re-applied for the resumed epoch.
    this.activePlan = undefined;
  }

  private everyParam(): Param[] {
    return [...this.model.params, ...(this.strategy.params?.() ?? [])];
  }

  /**
   * Releases the optimizer state and the strategy's own parameters.
   *
   * @example
   * ```ts
   * trainer.dispose(); // the model's own parameters stay; dispose the model separately
   * ```
   */
  dispose(): void {
    this.optimizer.dispose();
    this.strategy.dispose?.();
  }

  /** Applies the plan in force at `epoch` and works out who trains. */
  private prepareEpoch(epoch: number): void {
    const plan = this.plan ? (this.plan.at?.(epoch) ?? this.plan) : undefined;
    if (plan && plan !== this.activePlan) this.lrScales = applyPlan(this.model.params, plan);
    this.activePlan = plan;
    const owner = new Map<string, string>();
    for (const [task, params] of Object.entries(this.model.taskParams)) {
      for (const p of params) owner.set(p.name, task);
    }
    const modelTrainable = this.model.params.filter((p) => p.trainable);
    const own = (this.strategy.params?.() ?? []).filter((p) => p.trainable);
    if (modelTrainable.length === 0) {
      throw new GraftError('NOTHING_TRAINABLE', 'No model parameter is trainable', {
        where: `Trainer, epoch ${epoch + 1}`,
        hint: "The plan (or the params' trainable flags) freezes everything; unfreeze at least the heads.",
      });
    }
    const taskSpecific: Record<string, Param[]> = {};
    for (const task of this.model.tasks) {
      taskSpecific[task] = (this.model.taskParams[task] ?? []).filter((p) => p.trainable);
    }
    const params = [...modelTrainable, ...own];
    this.sets = {
      params,
      shared: modelTrainable.filter((p) => !owner.has(p.name)),
      taskSpecific,
      variables: params.map((p) => p.variable),
    };
  }

  private trainStep(
    batch: Batch,
    epoch: number,
    runStep: number,
    totalSteps: number,
    cache?: FeatureCachePass,
  ): StepResult {
    const step = this.globalStep + 1;
    const local = this.localStep(batch, epoch, step, cache);
    try {
      this.throwIfKernelFailed(local, epoch, step);
      const learningRate = this.learningRateAt(runStep, totalSteps);
      return this.applyStep(local.grads, local, local.undoStatistics, epoch, step, learningRate);
    } finally {
      local.dispose();
    }
  }

  /**
   * The step as one replica of a data-parallel group: gradients on this replica's rows, then
   * the group's row-weighted sums (see parallel/stepExchange.ts) in place of the local
   * numbers, so every replica checks, logs and applies the same step. Undefined when the
   * group agreed to stop (a replica or the starting thread asked before this step): then
   * nothing of it is applied.
   */
  private async replicaStep(
    group: ReplicaGroup,
    batch: Batch,
    epoch: number,
    runStep: number,
    totalSteps: number,
    options: { cache: FeatureCachePass | undefined; wantsStop: boolean },
  ): Promise<StepResult | undefined> {
    const sets = this.sets as TrainableSets;
    const step = this.globalStep + 1;
    const where = `Trainer.fit (replica ${group.rank} of ${group.size}, epoch ${epoch + 1}, step ${step})`;
    const rows = batch.x.shape[0] ?? 0;
    const [start, end] = replicaRows(rows, group.rank, group.size);
    const mine = end > start ? batchRows(batch, start, end) : undefined;
    let local: ReturnType<Trainer['localStep']> | undefined;
    try {
      if (mine) {
        local = this.localStep(mine, epoch, step, options.cache);
        this.throwIfKernelFailed(local, epoch, step);
      }
      const layout: StepExchangeLayout = {
        params: sets.params,
        statistics: this.statistics,
        tasks: this.model.tasks.length,
      };
      const share = { batch: rows, mine: end - start };
      const sums = await group.allReduceSum(
        stepExchangeLength(layout),
        (slot) =>
          packStep(slot, layout, local, {
            rows: share,
            stop: options.wantsStop || group.stopRequested(),
          }),
        where,
        { scale: replicaWeight(share), scaledLength: scaledExchangeLength(layout) },
      );
      const reduced = unpackStep(sums, layout);
      if (reduced.rowsSeen !== rows * group.size || reduced.rowsTrained !== rows) {
        throw new GraftError(
          'REPLICA_MISMATCH',
          `The replicas were given different batches (replica ${group.rank} got ${rows} rows)`,
          {
            where,
            hint: 'Every replica must read the same batches in the same order: build the data the same way, with the same seed, in each.',
          },
        );
      }
      const undo = () => local?.undoStatistics();
      if (reduced.stop) {
        undo();
        return undefined;
      }
      // The averaged gradients, in tensors kept from step to step (parallel/replicaTensors.ts).
      const grads: Record<string, tf.Tensor> = {};
      for (const p of sets.params) {
        const name = p.variable.name;
        const values = reduced.grads.get(name);
        if (values) grads[name] = this.reducedGradients.tensor(name, p.variable.shape, values);
      }
      const learningRate = this.learningRateAt(runStep, totalSteps);
      const result = this.applyStep(grads, reduced, undo, epoch, step, learningRate);
      // Every replica keeps the same moving statistics: the mean of their updates. (After the
      // checks: a replica without rows has nothing to undo, so it must not have changed them.)
      for (const p of this.statistics) {
        setVariable(p.variable, reduced.statistics.get(p.name) as Float32Array);
      }
      return result;
    } finally {
      local?.dispose();
      if (mine) tf.dispose(batchTensors(mine));
    }
  }

  /**
   * A WASM kernel that could not run leaves garbage in its output and says so only on stderr:
   * this step's loss and gradients are wrong, so it must not update anything.
   */
  private throwIfKernelFailed(local: { undoStatistics(): void }, epoch: number, step: number) {
    const failure = takeWasmKernelFailure();
    if (failure === undefined) return;
    local.undoStatistics();
    throw kernelFailed(failure, 'Trainer.fit', `epoch ${epoch + 1}, step ${step}`);
  }

  /**
   * The update from a step's gradients and numbers (one replica's own, or a group's), with
   * the NaN/Inf guard: a non-finite loss or gradient norm puts back the moving statistics the
   * forward pass changed (`undo`) and stops training, the weights left as they were.
   */
  private applyStep(
    grads: Readonly<Record<string, tf.Tensor>>,
    numbers: { loss: number; taskLosses: number[]; labelled: number[] },
    undo: () => void,
    epoch: number,
    step: number,
    learningRate: number,
  ): StepResult {
    const { loss, taskLosses, labelled } = numbers;
    if (!Number.isFinite(loss)) {
      undo();
      throw this.nonFinite(`Loss became ${loss}`, epoch, step, taskLosses);
    }
    const entries: OptimizerEntry[] = [];
    for (const param of (this.sets as TrainableSets).params) {
      const grad = grads[param.variable.name];
      if (grad) entries.push({ param, grad, lrScale: this.lrScales.get(param.name) ?? 1 });
    }
    const gradNorm = this.optimizer.step(entries, { learningRate, clipNorm: this.clipNorm });
    if (!Number.isFinite(gradNorm)) {
      undo();
      throw this.nonFinite(`The gradient norm became ${gradNorm}`, epoch, step, taskLosses);
    }
    this.globalStep = step;
    return { loss, taskLosses, labelled, gradNorm, learningRate };
  }

  private learningRateAt(runStep: number, totalSteps: number): number {
    return this.optimizer.spec.learningRate * this.schedule.factor(runStep, totalSteps);
  }

  /**
   * Forward, losses and gradients on one batch (through the gradient strategy), and the
   * numbers read back: the combined loss, each task's loss and labelled count. The moving
   * statistics the forward pass updated can be put back with `undoStatistics`.
   */
  private localStep(
    batch: Batch,
    epoch: number,
    step: number,
    cache?: FeatureCachePass,
  ): LocalStep & { undoStatistics(): void; dispose(): void } {
    const sets = this.sets as TrainableSets;
    this.checkBatch(batch);
    // While the trunk is frozen, the heads may train on cached trunk features.
    const cached: CachedForward | undefined = cache?.featuresFor(batch);
    const tasks = this.model.tasks;
    const batchNormModes = this.activePlan?.batchNorm;
    // Moving statistics are updated by the forward pass; keep the pre-step values so a bad
    // step can be undone, and the post-first-pass values so extra passes change nothing.
    // Host copies: a snapshot sharing their data would keep batch norm from updating them
    // in place.
    const beforeStep = copyParams(this.statistics);
    let afterFirstPass: HostCopy | undefined;
    let passes = 0;
    const context: GradientStrategyContext = {
      tasks,
      shared: sets.shared,
      taskSpecific: sets.taskSpecific,
      variables: sets.variables,
      step,
      epoch,
      taskLosses: () => {
        passes++;
        if (passes === 2) afterFirstPass = copyParams(this.statistics);
        const forwardOptions = {
          training: true,
          step,
          ...(batchNormModes ? { batchNormModes } : {}),
        };
        const outputs = cached
          ? cached.forward(forwardOptions)
          : this.model.forward(batch.x, forwardOptions);
        const losses = this.loss(outputs, batch);
        afterFirstPass?.restore();
        return losses;
      },
    };
    const dispose = () => {
      cached?.dispose();
    };
    let result: ReturnType<GradientStrategy['computeGradients']>;
    try {
      // The tape's saves share data instead of running a kernel each (tape/sharedTapeSaves.ts).
      result = withSharedTapeSaves(() => this.strategy.computeGradients(context));
    } catch (e) {
      dispose();
      throw e;
    }
    const disposeAll = () => {
      tf.dispose([
        result.loss,
        ...Object.values(result.taskLosses),
        ...Object.values(result.grads),
      ]);
      dispose();
    };
    try {
      const readout = tf.tidy(() =>
        tf.stack([
          result.loss,
          ...tasks.map((t) => this.taskLoss(result.taskLosses, t)),
          ...tasks.map((t) => tf.sum(batch.mask[t] as tf.Tensor)),
        ]),
      );
      const values = Array.from(readout.dataSync());
      readout.dispose();
      return {
        grads: result.grads,
        loss: values[0] as number,
        taskLosses: values.slice(1, 1 + tasks.length),
        labelled: values.slice(1 + tasks.length),
        undoStatistics: () => beforeStep.restore(),
        dispose: disposeAll,
      };
    } catch (e) {
      disposeAll();
      throw e;
    }
  }

  private taskLoss(losses: Readonly<Record<string, tf.Scalar>>, task: string): tf.Scalar {
    const loss = losses[task];
    if (!loss) {
      throw new GraftError(
        'TASK_NOT_FOUND',
        `The loss function returned no loss for task "${task}"`,
        {
          where: 'Trainer',
          hint: `It returned: ${Object.keys(losses).join(', ') || 'nothing'}. The loss must cover every model task.`,
        },
      );
    }
    return loss;
  }

  private checkBatch(batch: Batch): void {
    for (const task of this.model.tasks) {
      if (!batch.mask[task] || !batch.targets[task]) {
        throw new GraftError(
          'TASK_NOT_FOUND',
          `The batch has no targets or mask for task "${task}"`,
          {
            where: 'Trainer batch',
            hint: `The batch carries: ${Object.keys(batch.targets).join(', ') || 'no tasks'}. Build batches from a dataset with the model's tasks.`,
          },
        );
      }
    }
  }

  private nonFinite(what: string, epoch: number, step: number, taskLosses: number[]): GraftError {
    const perTask = this.model.tasks.map((t, i) => `${t} ${taskLosses[i]}`).join(', ');
    return new GraftError(
      'NAN_LOSS',
      `${what} at epoch ${epoch + 1}, step ${step} (task losses: ${perTask})`,
      {
        where: 'Trainer.fit',
        hint: 'Training stopped; the weights are those after the last good step. Lower the learning rate, set clipNorm, or check the inputs and targets for NaN/Inf.',
      },
    );
  }
}

function kernelFailed(failure: string, where: string, at: string): GraftError {
  const memory = isOutOfMemory(failure);
  return new GraftError(
    'WASM_KERNEL_FAILED',
    memory
      ? `The WebAssembly heap ran out of memory at ${at} (a WASM heap holds at most 4 GiB)`
      : `A WASM kernel failed at ${at}`,
    {
      where,
      hint: `${memory ? 'Use a smaller batch size or input size, or a narrower backbone. ' : ''}${where === 'Trainer.fit' ? "Training stopped before the step's update; the weights are those after the last good step. " : 'No metrics were computed from it. '}The backend said: ${failure.trim()}`,
    },
  );
}

function unknownTask(task: string, tasks: readonly string[], where: string): GraftError {
  return new GraftError('TASK_NOT_FOUND', `No task named "${task}"`, {
    where,
    hint: `The model's tasks: ${tasks.join(', ')}.`,
  });
}
