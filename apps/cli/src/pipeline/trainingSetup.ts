import {
  type Backbone,
  type BatchSource,
  earlyStopping,
  type TrainerCallback,
  type TrainerOptions,
} from '@graft/core';
import { type Dataset, type IndexedDataset, type LabelStats, labelStats } from '@graft/datasets';
import type { FreezePlan, FreezePolicy } from '@graft/freeze';
import { type MultiTaskModel, multiTaskModel } from '@graft/heads';
import type { TrainConfig } from '../config/trainConfig';
import { epochBatches, loadDataset, prepareSplits, type Splits } from './data';
import {
  configuredHeads,
  freezePolicy,
  learningRateSchedule,
  loadConfiguredBackbone,
  optimizerSpec,
  weightingStrategy,
} from './model';

/**
 * Everything `graft train` trains from, built from a config: the dataset and its splits, the
 * backbone and multi-task model (seeded: the same weights every time), the freeze plan, the
 * batch sources, the Trainer's options and the fit callbacks the config asks for. One
 * function for the main thread and for every data-parallel replica (trainReplicaJob), so
 * they can never build different models or data.
 */
export interface TrainingSetup {
  dataset: IndexedDataset;
  backbone: Backbone;
  model: MultiTaskModel;
  splits: Splits;
  stats: LabelStats;
  /** Labelled examples per task in the train split. */
  labelled: Record<string, number>;
  policy: FreezePolicy;
  plan: FreezePlan;
  rows: ReturnType<FreezePlan['explain']>;
  /** Batches of a split (`at(epoch)`: the split as that epoch sees it). */
  source(at: (epoch: number) => Dataset, size: number, shuffle: boolean): BatchSource;
  trainSource: BatchSource;
  validation: BatchSource | undefined;
  /** The Trainer's options, but for `onWarning` (each caller says where warnings go). */
  trainer: Omit<TrainerOptions, 'onWarning' | 'dataParallel'>;
  /** New each call: fit callbacks the config asks for (early stopping). */
  callbacks(): TrainerCallback[];
  dispose(): void;
}

export interface TrainingSetupOptions {
  /** The config file (data paths in it are relative to its folder). */
  configPath: string;
  /** The config file's folder (a backbone path is relative to it). */
  baseDir: string;
}

/** Call after `initBackend`: tensors belong to the backend they were made on. */
export async function setupTraining(
  config: TrainConfig,
  options: TrainingSetupOptions,
): Promise<TrainingSetup> {
  const dataset = await loadDataset(config.data, config.tasks, {
    seed: config.seed,
    configPath: options.configPath,
  });
  const backbone = await loadConfiguredBackbone(config, { baseDir: options.baseDir });
  let model: MultiTaskModel | undefined;
  try {
    model = multiTaskModel({
      backbone,
      tasks: configuredHeads(config.tasks),
      seed: config.seed,
    });
    model.checkTasks(dataset.tasks);

    const splits = prepareSplits(dataset, config, {
      inputShape: backbone.inputShape,
      preprocessing: backbone.preprocessing,
    });
    const stats = await labelStats(splits.raw.train);
    const labelled = Object.fromEntries(
      Object.entries(stats.tasks).map(([t, s]) => [t, s.labelled]),
    );
    const policy = freezePolicy(config.freeze, labelled);
    const plan = policy.plan(model);
    const rows = plan.explain();

    const batchSize = config.batchSize;
    const source = (at: (epoch: number) => Dataset, size: number, shuffle: boolean) =>
      epochBatches(at, size, { batchSize, shuffle, seed: config.seed });
    const trainSource = source(splits.trainAt, splits.train.size, true);
    const validation =
      splits.validation.size > 0
        ? source(() => splits.validation, splits.validation.size, false)
        : undefined;
    const built = model;
    return {
      dataset,
      backbone,
      model: built,
      splits,
      stats,
      labelled,
      policy,
      plan,
      rows,
      source,
      trainSource,
      validation,
      trainer: {
        model: built,
        plan,
        optimizer: optimizerSpec(config.optimizer),
        schedule: learningRateSchedule(config.schedule, Math.ceil(splits.train.size / batchSize)),
        strategy: weightingStrategy(config.weighting),
        ...(config.optimizer.clipNorm !== undefined ? { clipNorm: config.optimizer.clipNorm } : {}),
      },
      callbacks: () =>
        config.earlyStopping && validation
          ? [earlyStopping({ patience: config.earlyStopping.patience, restoreBestWeights: true })]
          : [],
      dispose() {
        built.dispose();
        backbone.dispose();
      },
    };
  } catch (e) {
    model?.dispose();
    backbone.dispose();
    throw e;
  }
}
