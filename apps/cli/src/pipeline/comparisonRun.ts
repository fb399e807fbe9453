import { type Backbone, initialKernel, Trainer } from '@graft/core';
import { type Dataset, type IndexedDataset, labelStats, subset } from '@graft/datasets';
import type { FreezePlan } from '@graft/freeze';
import { type ModelReport, multiTaskModel } from '@graft/heads';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../config/trainConfig';
import type { TaskKind } from './compareVerdicts';
import { epochBatches, prepareSplits, type Splits } from './data';
import { keyMetricStandardError } from './metricErrors';
import {
  configuredHeads,
  freezePolicy,
  learningRateSchedule,
  loadConfiguredBackbone,
  optimizerSpec,
  weightingStrategy,
} from './model';

/**
 * One training run of `graft compare`: the train pipeline of `graft train` (same data
 * transforms, heads, optimizer, schedule, weighting), varied along the axes a comparison
 * needs — pre-trained or re-initialised trunk, freeze policy, which tasks, how much of the
 * training split, which seed — and scored on the validation split. The validation split is
 * the one `graft train` makes from the config's seed, whatever the run's seed.
 */
export interface RunSpec {
  /** `pretrained`: the config's backbone as loaded; `scratch`: the same architecture, weights re-initialised. */
  trunk: 'pretrained' | 'scratch';
  freeze: TrainConfig['freeze'];
  tasks: readonly string[];
  /** Fraction of the training split (nested: a smaller fraction is a prefix of a larger one). */
  fraction: number;
  seed: number;
}

export interface RunResult {
  /** Per task: the key metric on the validation split (NaN when undefined there). */
  metrics: Record<string, number>;
  /** Per task: the metric's standard error from the validation counts (NaN for R²). */
  sampleErrors: Record<string, number>;
  /** The plan the policy produced (`ruleOfThumb -> headsOnly`). */
  plan: string;
  trainExamples: number;
  /** Labelled training examples per configured task, in the run's training subset. */
  labelled: Record<string, number>;
  /** Trainable parameters in the last epoch's plan: trunk and heads. */
  trainableParams: number;
  trunkTrainableParams: number;
  seconds: number;
  /** True when an identical run (same trunk, plan, tasks, data, seed) was reused. */
  reused: boolean;
  /** Identifies the run: equal keys, equal runs. */
  key: string;
}

/** The key metric of each task kind: mean ROC-AUC, accuracy, mean R². */
export function keyMetric(report: ModelReport, task: string): number {
  const r = report.tasks[task];
  if (!r) return Number.NaN;
  if (r.kind === 'multiLabel') return r.mean.auc;
  if (r.kind === 'classification') return r.accuracy;
  return r.mean.r2;
}

/**
 * Random weights in place, by parameter kind, as a freshly built layer has them: kernels
 * Glorot-uniform (the Keras default), biases and betas 0, gammas 1, moving mean 0 and
 * variance 1. Works for any backbone, shipped or loaded, so "scratch" is always the very
 * architecture the transfer run used.
 */
export function reinitialise(backbone: Backbone, seed: number): void {
  for (const p of backbone.params) {
    const shape = p.variable.shape;
    tf.tidy(() => {
      const value =
        p.kind === 'kernel' || p.kind === 'depthwiseKernel'
          ? initialKernel('glorotUniform', shape, seed, p.name)
          : p.kind === 'gamma' || p.kind === 'movingVariance'
            ? tf.ones(shape)
            : tf.zeros(shape);
      p.variable.assign(value);
    });
  }
}

function trainableCount(
  plan: FreezePlan,
  params: readonly { name: string; variable: tf.Variable }[],
): number {
  return params.reduce((n, p) => n + (plan.params.get(p.name)?.trainable ? p.variable.size : 0), 0);
}

/** Same decisions for every parameter and batch-norm layer at every epoch = the same run. */
function planSignature(plan: FreezePlan, epochs: number): string {
  const parts: string[] = [];
  for (let e = 0; e < epochs; e++) {
    const at = plan.at(e);
    for (const [name, p] of at.params) parts.push(`${name}:${p.trainable ? p.lrScale : 0}`);
    for (const [name, mode] of at.batchNorm) parts.push(`${name}:${mode}`);
    parts.push('|');
  }
  return parts.join(',');
}

export interface ComparisonRunner {
  run(spec: RunSpec): Promise<RunResult>;
  /** Runs trained so far (reused ones not counted). */
  readonly trained: number;
}

export interface ComparisonRunnerOptions {
  config: TrainConfig;
  dataset: IndexedDataset;
  baseDir: string;
  onEpoch?: (spec: RunSpec, epoch: number, loss: number) => void;
  onWarning?: (message: string) => void;
}

export function comparisonRunner(options: ComparisonRunnerOptions): ComparisonRunner {
  const { config, dataset } = options;
  const splitsCache = new Map<string, Splits>();
  const results = new Map<string, RunResult>();
  const orderCache = new Map<number, number[]>();
  let trained = 0;

  // A seeded permutation of the training split; fraction f takes its first round(f n).
  const trainOrder = (n: number): number[] => {
    const cached = orderCache.get(n);
    if (cached) return cached;
    const order = Array.from({ length: n }, (_, i) => i);
    let state = (config.seed * 2654435761) >>> 0 || 1;
    for (let i = n - 1; i > 0; i--) {
      state = (Math.imul(state ^ (state >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
      const j = state % (i + 1);
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    orderCache.set(n, order);
    return order;
  };

  const loadTrunk = async (spec: RunSpec): Promise<Backbone> => {
    const backbone = await loadConfiguredBackbone(
      { backbone: config.backbone, seed: spec.seed },
      { baseDir: options.baseDir },
    );
    if (spec.trunk === 'scratch') reinitialise(backbone, spec.seed);
    return backbone;
  };

  return {
    get trained() {
      return trained;
    },
    async run(spec) {
      const backbone = await loadTrunk(spec);
      const tasks = Object.fromEntries(
        spec.tasks.map((t) => [t, config.tasks[t] as TrainConfig['tasks'][string]]),
      );
      const model = multiTaskModel({
        backbone,
        tasks: configuredHeads(tasks),
        seed: spec.seed,
      });
      let trainer: Trainer | undefined;
      try {
        // Same input transforms for both trunks (the scratch one is the same architecture).
        const splitKey = JSON.stringify([backbone.inputShape, backbone.preprocessing]);
        let splits = splitsCache.get(splitKey);
        if (!splits) {
          splits = prepareSplits(dataset, config, {
            inputShape: backbone.inputShape,
            preprocessing: backbone.preprocessing,
          });
          splitsCache.set(splitKey, splits);
        }
        const all = splits.raw.train.size;
        const count = Math.max(1, Math.round(spec.fraction * all));
        const indices = trainOrder(all).slice(0, count);
        const stats = await labelStats(subset(splits.raw.train, indices));
        // The rule of thumb decides from every configured task's labels, also for a network
        // trained on fewer tasks: one network per task then gets the very plan the multi-task
        // network got, so the comparison isolates sharing the trunk.
        const labelled = Object.fromEntries(
          Object.keys(config.tasks).map((t) => [t, stats.tasks[t]?.labelled ?? 0]),
        );
        const plan = freezePolicy(spec.freeze, labelled).plan(model);
        const trunkNames = new Set(backbone.params.map((p) => p.name));
        const last = plan.at(config.epochs - 1);
        const key = JSON.stringify([
          spec.trunk,
          spec.tasks,
          count,
          spec.seed,
          planSignature(plan, config.epochs),
        ]);
        const seen = results.get(key);
        if (seen) return { ...seen, plan: plan.policy, reused: true };

        const started = performance.now();
        const batchSize = config.batchSize;
        const source = (at: (epoch: number) => Dataset, size: number, shuffle: boolean) =>
          epochBatches(at, size, { batchSize, shuffle, seed: spec.seed });
        const s = splits;
        const train = source((epoch) => subset(s.trainAt(epoch), indices), count, true);
        const validation = source(() => s.validation, s.validation.size, false);
        trainer = new Trainer({
          model,
          plan,
          optimizer: optimizerSpec(config.optimizer),
          schedule: learningRateSchedule(config.schedule, Math.ceil(count / batchSize)),
          // A network with fewer tasks than the config has nothing (or not the same tasks)
          // to weigh: plain summed losses.
          strategy: weightingStrategy(
            spec.tasks.length === Object.keys(config.tasks).length ? config.weighting : 'equal',
          ),
          ...(config.optimizer.clipNorm !== undefined
            ? { clipNorm: config.optimizer.clipNorm }
            : {}),
          onWarning: (m) => options.onWarning?.(m),
        });
        await trainer.fit(train, {
          epochs: config.epochs,
          callbacks: [{ onEpochEnd: (logs) => options.onEpoch?.(spec, logs.epoch, logs.loss) }],
        });
        const evaluation = await trainer.evaluate(validation);
        const report = evaluation.report as ModelReport;
        trained += 1;
        const result: RunResult = {
          metrics: Object.fromEntries(spec.tasks.map((t) => [t, keyMetric(report, t)])),
          sampleErrors: Object.fromEntries(
            spec.tasks.map((t) => [t, keyMetricStandardError(report, t)]),
          ),
          plan: plan.policy,
          trainExamples: count,
          labelled,
          trainableParams: trainableCount(last, model.params),
          trunkTrainableParams: trainableCount(
            last,
            model.params.filter((p) => trunkNames.has(p.name)),
          ),
          seconds: (performance.now() - started) / 1000,
          reused: false,
          key,
        };
        results.set(key, result);
        return result;
      } finally {
        trainer?.dispose();
        model.dispose();
        backbone.dispose();
      }
    },
  };
}

/** The kind of each configured task. */
export function taskKinds(config: TrainConfig): Record<string, TaskKind> {
  return Object.fromEntries(Object.entries(config.tasks).map(([t, c]) => [t, c.kind]));
}
