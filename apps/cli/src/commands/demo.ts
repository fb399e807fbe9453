import {
  type BatchSource,
  type EpochLogs,
  initBackend,
  pretrainedBackbone,
  Trainer,
} from '@graft/core';
import {
  balanceWarnings,
  batches,
  type Dataset,
  drivingSceneObjects,
  drivingScenes,
  fitToBackbone,
  labelStats,
  mapExamples,
  subset,
  trafficLightColours,
} from '@graft/datasets';
import { type ExplainRow, ruleOfThumb } from '@graft/freeze';
import {
  classification,
  type ModelReport,
  multiLabel,
  multiTaskModel,
  regression,
  tuneThresholds,
} from '@graft/heads';
import type { Reporter } from '../reporter';

export interface DemoOptions {
  /** Generated scenes in total (70% train, 15% validation, 15% test). */
  scenes: number;
  epochs: number;
  batch: number;
  seed: number;
  backend: 'wasm' | 'cpu';
}

export interface DemoResult {
  backend: string;
  policy: string;
  freezePlan: ExplainRow[];
  history: EpochLogs[];
  test: ModelReport;
  /** Chance levels on the test split, for reading the metrics. */
  chance: { presenceAuc: number; lightColourAccuracy: number; carCountR2: number };
  seconds: number;
}

/**
 * `graft demo`: the source notes' driving example, end to end, with no download. Generated
 * road scenes carry four presence labels (pedestrian, car, stop sign, traffic light — several
 * at once, so sigmoids, not softmax), the traffic light's colour and the number of cars, with
 * labels missing. The shipped backbone is the trunk, `ruleOfThumb` decides how much of it to
 * retrain and says why, one multi-task network learns all three tasks at once, and the test
 * split is scored per task against chance.
 */
export async function runDemo(options: DemoOptions, reporter: Reporter): Promise<DemoResult> {
  const started = performance.now();
  const info = await initBackend({ backend: options.backend });
  reporter.info(
    `backend: ${info.name} (SIMD ${info.simd ? 'on' : 'off'}, ${info.threads} thread${info.threads === 1 ? '' : 's'})`,
    { backend: info.name, simd: info.simd, threads: info.threads },
  );

  // Data: generated scenes, some labels blanked ("?"), split by index (scenes are i.i.d.).
  const backbone = pretrainedBackbone();
  const size = backbone.inputShape[0] as number;
  const scenes = drivingScenes({
    count: options.scenes,
    seed: options.seed,
    size,
    missing: { presence: 0.15, carCount: 0.2 },
  });
  const nTrain = Math.round(options.scenes * 0.7);
  const nValidation = Math.round(options.scenes * 0.15);
  const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  const pre = backbone.preprocessing;
  const prepare = (indices: number[]) =>
    mapExamples(
      subset(scenes, indices),
      fitToBackbone({
        inputRange: pre.inputRange,
        mean: pre.mean,
        std: pre.std,
        size: [size, size],
      }),
    );
  const train = prepare(range(0, nTrain));
  const validation = prepare(range(nTrain, nValidation));
  const test = prepare(range(nTrain + nValidation, options.scenes - nTrain - nValidation));
  const stats = await labelStats(subset(scenes, range(0, nTrain)));
  const labelled = Object.fromEntries(Object.entries(stats.tasks).map(([t, s]) => [t, s.labelled]));
  reporter.info(
    `data: ${options.scenes} generated ${size}x${size} road scenes (${train.size} train / ${validation.size} validation / ${test.size} test); labelled in train: ${Object.entries(
      labelled,
    )
      .map(([t, n]) => `${t} ${n}`)
      .join(', ')}`,
  );
  for (const w of balanceWarnings(stats)) reporter.info(`  note: ${w.message}`);

  // Model: the shipped trunk, one head per task.
  const model = multiTaskModel({
    backbone,
    tasks: {
      presence: multiLabel({ labels: drivingSceneObjects, pooling: 'max', hidden: [64] }),
      lightColour: classification({ classes: trafficLightColours, pooling: 'max', hidden: [32] }),
      carCount: regression({ outputs: 1, hidden: [32] }),
    },
    seed: options.seed,
  });
  model.checkTasks(scenes.tasks);

  // How much to retrain: the rule of thumb, explained.
  const plan = ruleOfThumb({ labelled }).plan(model);
  const rows = plan.explain();
  reporter.info(`freeze: ${plan.policy}`);
  const why = rows[0]?.reason.match(/\[(.*)\]$/)?.[1];
  if (why) reporter.info(`  why: ${why}`);
  reporter.info(`  ${summariseRows(rows)}`);

  const source = (ds: Dataset, shuffle: boolean): BatchSource => ({
    batchCount: Math.ceil(ds.size / options.batch),
    batches: (epoch) =>
      batches(ds, { batchSize: options.batch, shuffle, seed: options.seed, epoch }),
  });
  const trainer = new Trainer({
    model,
    plan,
    optimizer: { type: 'adamw', learningRate: 2e-3, weightDecay: 1e-4 },
    onWarning: (m) => reporter.info(`  note: ${m}`),
  });
  const history = await trainer.fit(source(train, true), {
    epochs: options.epochs,
    validation: source(validation, false),
    callbacks: [
      {
        onEpochEnd: (logs: EpochLogs) => {
          const tasks = Object.entries(logs.taskLosses)
            .map(([t, l]) => `${t} ${l.toFixed(3)}`)
            .join(', ');
          const v = logs.validation?.loss;
          reporter.progress(
            { epoch: logs.epoch + 1, epochs: options.epochs, loss: logs.loss, validationLoss: v },
            `epoch ${logs.epoch + 1}/${options.epochs}  loss ${logs.loss.toFixed(3)} (${tasks})${v === undefined ? '' : `  validation ${v.toFixed(3)}`}  ${logs.seconds.toFixed(1)} s`,
          );
        },
      },
    ],
  });

  // Thresholds tuned on validation, then the test split, per task, against chance.
  await tuneThresholds(model, source(validation, false));
  const evaluation = await trainer.evaluate(source(test, false));
  const report = evaluation.report as ModelReport;
  const chance = await chanceLevels(subset(scenes, range(nTrain + nValidation, test.size)));
  for (const line of describeReport(report, chance)) reporter.info(line);

  const seconds = (performance.now() - started) / 1000;
  reporter.summary(
    { backend: info.name, seconds, policy: plan.policy },
    `done in ${seconds.toFixed(0)} s on ${info.name}`,
  );
  trainer.dispose();
  model.dispose();
  backbone.dispose();
  return {
    backend: info.name,
    policy: plan.policy,
    freezePlan: rows,
    history: history.epochs,
    test: report,
    chance,
    seconds,
  };
}

/**
 * The plan in one line, by block: "stem .. block_14 frozen (n values); block_15 .. heads
 * train (m values)". A block counts as training when any of its weights does (batch-norm
 * statistics never do: they follow the batch).
 */
function summariseRows(rows: readonly ExplainRow[]): string {
  const blocks = new Map<string, { trainable: boolean; params: number }>();
  for (const r of rows) {
    const b = blocks.get(r.block) ?? { trainable: false, params: 0 };
    b.trainable ||= r.trainable;
    b.params += r.params;
    blocks.set(r.block, b);
  }
  const groups: { trainable: boolean; from: string; to: string; params: number }[] = [];
  for (const [block, b] of blocks) {
    const last = groups[groups.length - 1];
    if (last && last.trainable === b.trainable) {
      last.to = block;
      last.params += b.params;
    } else groups.push({ trainable: b.trainable, from: block, to: block, params: b.params });
  }
  return groups
    .map(
      (g) =>
        `${g.from === g.to ? g.from : `${g.from} .. ${g.to}`} ${g.trainable ? 'train' : 'frozen'} (${g.params.toLocaleString('en')} values)`,
    )
    .join('; ');
}

async function chanceLevels(test: Dataset) {
  const stats = await labelStats(test);
  const counts = Object.values(stats.tasks.lightColour?.classCounts ?? {});
  const total = counts.reduce((a, b) => a + b, 0);
  return {
    presenceAuc: 0.5,
    lightColourAccuracy: total > 0 ? Math.max(...counts) / total : Number.NaN,
    carCountR2: 0,
  };
}

function describeReport(report: ModelReport, chance: DemoResult['chance']): string[] {
  const lines = ['test split:'];
  for (const [task, r] of Object.entries(report.tasks)) {
    if (r.kind === 'multiLabel') {
      lines.push(
        `  ${task}: mean ROC-AUC ${r.mean.auc.toFixed(3)} (chance ${chance.presenceAuc}), mAP ${r.mean.mAP.toFixed(3)}, F1 ${r.mean.f1.toFixed(3)}`,
      );
      lines.push(
        `    ${r.labels.map((l) => `${l.label} AUC ${l.auc.toFixed(2)} F1 ${l.f1.toFixed(2)} @${l.threshold.toFixed(2)}`).join(' | ')}`,
      );
    } else if (r.kind === 'classification') {
      lines.push(
        `  ${task}: accuracy ${r.accuracy.toFixed(3)} (always the commonest class: ${chance.lightColourAccuracy.toFixed(3)}), macro-F1 ${r.macroF1.toFixed(3)}`,
      );
    } else {
      lines.push(
        `  ${task}: R² ${r.mean.r2.toFixed(3)} (predicting the mean: ${chance.carCountR2}), MAE ${r.mean.mae.toFixed(3)}, RMSE ${r.mean.rmse.toFixed(3)}`,
      );
    }
  }
  return lines;
}
