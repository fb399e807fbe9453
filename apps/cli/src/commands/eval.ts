import { stat } from 'node:fs/promises';
import { GraftError, type GraftModel, initBackend, type SidecarTask } from '@graft/core';
import { batches, type IndexedDataset, mapExamples } from '@graft/datasets';
import {
  checkTaskSpecs,
  type ModelReport,
  type TaskHead,
  type TaskMetricsAccumulator,
  taskMetrics,
} from '@graft/heads';
import * as tf from '@tensorflow/tfjs-core';
import { loadConfig } from '../config/loadConfig';
import type { TrainConfig } from '../config/trainConfig';
import { inputTransforms, loadDataset, prepareSplits } from '../pipeline/data';
import { loadRunModel } from '../pipeline/graftModel';
import { configuredHeads } from '../pipeline/model';
import { describeReport } from '../pipeline/reports';
import type { Reporter } from '../reporter';

export type EvalSplit = 'test' | 'validation' | 'train' | 'all';

export interface EvalOptions {
  model: string;
  /** A train config (.yaml, .yml, .json), a CSV / JSONL manifest, or an image folder. */
  data: string;
  /** With a config: which of its splits (same seed, same split as training). Default test. */
  split: EvalSplit;
  batch: number;
  backend: 'wasm' | 'cpu';
}

export interface EvalResult {
  examples: number;
  metrics: Record<string, number>;
  report: ModelReport;
}

const CONFIG = /\.(ya?ml|json)$/i;

/** The tasks of a saved model as a config's `tasks` (how a manifest's columns are read). */
export function sidecarTasks(tasks: readonly SidecarTask[]): TrainConfig['tasks'] {
  const head = { hidden: [], dropout: 0 };
  const out: TrainConfig['tasks'] = {};
  for (const t of tasks) {
    const labels = t.labels ?? [];
    if (t.kind === 'multiLabel') out[t.name] = { kind: 'multiLabel', labels, head };
    else if (t.kind === 'classification') {
      out[t.name] = { kind: 'classification', classes: labels, labelSmoothing: 0, head };
    } else if (t.kind === 'regression') {
      out[t.name] = {
        kind: 'regression',
        outputs: labels.length,
        columns: labels,
        loss: 'mse',
        head,
      };
    } else {
      throw new GraftError('MODEL_MALFORMED', `Task "${t.name}" has no known kind`, {
        where: 'graft.json tasks',
        hint: 'graft eval reads models graft train wrote.',
      });
    }
  }
  return out;
}

/**
 * `graft eval <model-dir> <config-or-dataset>`: the saved model's per-task metrics on data
 * with labels — a config's split (the same split as training, by its seed), a manifest, or
 * an image folder. Multi-label decisions use the thresholds stored in graft.json.
 */
export async function runEval(options: EvalOptions, reporter: Reporter): Promise<EvalResult> {
  await initBackend({ backend: options.backend });
  const model = await loadRunModel(options.model);
  try {
    const dataset = await evalDataset(options, model);
    const tasks = configuredHeads(sidecarTasks(model.tasks));
    checkTaskSpecs(tasks, dataset.tasks);
    reporter.info(`data: ${dataset.size} examples from ${options.data}`, {
      examples: dataset.size,
    });
    if (dataset.size === 0) {
      throw new GraftError('DATASET_EMPTY', `No examples to evaluate on`, {
        where: options.data,
        hint: 'Pick another --split, or pass a dataset with labelled examples.',
      });
    }
    const accumulators: Record<string, TaskMetricsAccumulator> = {};
    for (const t of model.tasks) {
      accumulators[t.name] = taskMetrics(
        tasks[t.name] as TaskHead,
        t.kind === 'multiLabel' ? t.thresholds : undefined,
      );
    }
    for await (const batch of batches(dataset, { batchSize: options.batch })) {
      const outputs = model.predict(batch.x);
      try {
        for (const t of model.tasks) {
          const targets = batch.targets[t.name];
          const mask = batch.mask[t.name];
          const out = outputs[t.name];
          if (!targets || !mask || !out) continue;
          accumulators[t.name]?.add(out.dataSync(), targets.dataSync(), mask.dataSync());
        }
      } finally {
        tf.dispose([
          batch.x,
          ...Object.values(batch.targets),
          ...Object.values(batch.mask),
          ...Object.values(outputs),
        ]);
      }
    }
    const metrics: Record<string, number> = {};
    const report: ModelReport = { tasks: {} };
    for (const [task, acc] of Object.entries(accumulators)) {
      const r = acc.result();
      for (const [name, v] of Object.entries(r.scalars)) metrics[`${task}/${name}`] = v;
      report.tasks[task] = r.report;
    }
    for (const line of describeReport(report)) reporter.info(line);
    reporter.summary(
      { examples: dataset.size, metrics, report },
      `evaluated ${dataset.size} examples`,
    );
    return { examples: dataset.size, metrics, report };
  } finally {
    model.dispose();
  }
}

async function evalDataset(options: EvalOptions, model: GraftModel): Promise<IndexedDataset> {
  const spec = {
    inputShape: model.sidecar.trunk.inputShape,
    preprocessing: model.sidecar.preprocessing,
  };
  if (CONFIG.test(options.data)) {
    const config = await loadConfig(options.data);
    const dataset = await loadDataset(config.data, config.tasks, {
      seed: config.seed,
      configPath: options.data,
    });
    if (options.split === 'all') return mapExamples(dataset, inputTransforms(spec));
    const splits = prepareSplits(dataset, { ...config, augment: noAugment }, spec);
    return splits[options.split];
  }
  const isDir = await stat(options.data).then(
    (s) => s.isDirectory(),
    () => {
      throw new GraftError('DATASET_FILE_NOT_FOUND', `The dataset path does not exist`, {
        where: options.data,
        hint: 'Pass a train config, a CSV / JSONL manifest, or an image folder.',
      });
    },
  );
  const tasks = sidecarTasks(model.tasks);
  const data: TrainConfig['data'] = isDir
    ? {
        adapter: 'imageFolder',
        path: options.data,
        task: model.tasks.find((t) => t.kind === 'classification')?.name ?? 'class',
        skipInvalid: false,
      }
    : {
        adapter: 'manifest',
        path: options.data,
        imageColumn: 'image',
        missing: MISSING,
        skipInvalid: false,
      };
  const dataset = await loadDataset(data, tasks, { seed: 0 });
  return mapExamples(dataset, inputTransforms(spec));
}

const noAugment = { flip: false, crop: 0, colourJitter: 0 };
const MISSING = ['', '?', 'NA', 'null'];
