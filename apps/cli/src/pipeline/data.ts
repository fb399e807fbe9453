import { access } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { type BatchSource, GraftError } from '@graft/core';
import {
  batches,
  colorJitter,
  type Dataset,
  drivingScenes,
  fitToBackbone,
  type IndexedDataset,
  idx,
  imageFolder,
  type ManifestTask,
  manifest,
  mapExamples,
  randomCrop,
  randomFlip,
  stratifiedSplit,
  type Transform,
  toChannels,
} from '@graft/datasets';
import type { TaskConfig, TrainConfig } from '../config/trainConfig';

/** What a backbone wants its input to look like, as the data pipeline needs it. */
export interface InputSpec {
  inputShape: readonly number[];
  preprocessing: {
    inputRange: readonly [number, number];
    mean: number | readonly number[];
    std: number | readonly number[];
  };
}

/** Output names of a regression task: its manifest columns, or the task name for one output. */
export function regressionNames(task: string, t: Extract<TaskConfig, { kind: 'regression' }>) {
  if (t.columns) return t.columns;
  return t.outputs === 1 ? [task] : Array.from({ length: t.outputs }, (_, i) => `${task}_${i}`);
}

/** How each configured task reads a manifest's columns. */
export function manifestTasks(tasks: TrainConfig['tasks']): Record<string, ManifestTask> {
  const out: Record<string, ManifestTask> = {};
  for (const [name, t] of Object.entries(tasks)) {
    if (t.kind === 'multiLabel') {
      out[name] = { kind: 'multiLabel', columns: t.columns ?? t.labels, labels: t.labels };
    } else if (t.kind === 'classification') {
      out[name] = { kind: 'classification', column: t.column ?? name, classes: t.classes };
    } else {
      out[name] = { kind: 'regression', columns: regressionNames(name, t) };
    }
  }
  return out;
}

async function mustExist(path: string, key: string): Promise<void> {
  const exists = await access(path).then(
    () => true,
    () => false,
  );
  if (!exists) {
    throw new GraftError('DATASET_FILE_NOT_FOUND', `The dataset path does not exist: ${path}`, {
      where: key,
      hint: 'Paths in a config are relative to the config file.',
    });
  }
}

/**
 * The dataset a config names, with paths relative to the config file's folder. Checks that
 * the paths exist before any adapter reads them, so the error names the config key.
 */
export async function loadDataset(
  data: TrainConfig['data'],
  tasks: TrainConfig['tasks'],
  options: { seed: number; configPath?: string },
): Promise<IndexedDataset> {
  const base = options.configPath ? dirname(resolve(options.configPath)) : process.cwd();
  const at = (p: string) => (isAbsolute(p) || /^https?:/.test(p) ? p : resolve(base, p));
  switch (data.adapter) {
    case 'manifest': {
      const path = at(data.path);
      await mustExist(path, 'data.path');
      return manifest(path, {
        tasks: manifestTasks(tasks),
        imageColumn: data.imageColumn,
        missing: data.missing,
        skipInvalid: data.skipInvalid,
      });
    }
    case 'imageFolder': {
      const path = at(data.path);
      await mustExist(path, 'data.path');
      return imageFolder(path, { task: data.task, skipInvalid: data.skipInvalid });
    }
    case 'idx': {
      const images = at(data.images);
      const labels = at(data.labels);
      await mustExist(images, 'data.images');
      await mustExist(labels, 'data.labels');
      return idx({ images, labels, task: data.task });
    }
    case 'drivingScenes':
      return drivingScenes({
        count: data.count,
        seed: options.seed,
        size: data.size,
        missing: data.missing,
      });
  }
}

/** The deterministic transforms from [0, 1] images to the backbone's input. */
export function inputTransforms(spec: InputSpec): Transform[] {
  const [h, w, c] = spec.inputShape as [number, number, number];
  return [
    toChannels(c === 1 ? 1 : 3),
    ...fitToBackbone({
      inputRange: spec.preprocessing.inputRange,
      mean: spec.preprocessing.mean,
      std: spec.preprocessing.std,
      size: [h, w],
    }),
  ];
}

/**
 * Batches of a split that may differ per epoch (`at(epoch)`, e.g. `Splits.trainAt` with its
 * fresh augmentation), as the Trainer's BatchSource; `size` is the split's size. For a split
 * that is the same every epoch, `@graft/datasets`' `batchSource` does the same.
 */
export function epochBatches(
  at: (epoch: number) => Dataset,
  size: number,
  options: { batchSize: number; shuffle: boolean; seed: number },
): BatchSource {
  const { batchSize, shuffle, seed } = options;
  return {
    batchCount: Math.ceil(size / batchSize),
    batches: (epoch) => batches(at(epoch), { batchSize, shuffle, seed, epoch }),
  };
}

export interface Splits {
  train: IndexedDataset;
  /** The training split for an epoch: fresh augmentation every pass. */
  trainAt(epoch: number): IndexedDataset;
  validation: IndexedDataset;
  test: IndexedDataset;
  /** The same splits before any transform (for label statistics). */
  raw: { train: IndexedDataset; validation: IndexedDataset; test: IndexedDataset };
}

/** Stratified train / validation / test splits, fitted to the backbone; augmentation on train. */
export function prepareSplits(
  dataset: IndexedDataset,
  config: Pick<TrainConfig, 'split' | 'seed' | 'augment'>,
  spec: InputSpec,
): Splits {
  const { validation, test } = config.split;
  const raw = stratifiedSplit(dataset, {
    fractions: { train: 1 - validation - test, validation, test },
    seed: config.seed,
  });
  const fit = inputTransforms(spec);
  const [h, w] = spec.inputShape as [number, number];
  const augment: Transform[] = [];
  if (config.augment.flip) augment.push(randomFlip());
  if (config.augment.crop > 0) {
    augment.push(randomCrop({ height: h, width: w, padding: Math.round(config.augment.crop * h) }));
  }
  if (config.augment.colourJitter > 0) {
    const s = config.augment.colourJitter;
    augment.push(colorJitter({ brightness: s, contrast: s, saturation: s }));
  }
  // Augmentations expect [0, 1] pixels at the final size: fit first, then augment, then
  // normalise (the last transform of fitToBackbone).
  const trainTransforms =
    augment.length === 0
      ? fit
      : [...fit.slice(0, -1), ...augment, fit[fit.length - 1] as Transform];
  return {
    train: mapExamples(raw.train, trainTransforms, { seed: config.seed }),
    trainAt: (epoch) => mapExamples(raw.train, trainTransforms, { seed: config.seed, epoch }),
    validation: mapExamples(raw.validation, fit),
    test: mapExamples(raw.test, fit),
    raw,
  };
}
