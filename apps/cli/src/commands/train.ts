import { dirname, resolve } from 'node:path';
import {
  type Backbone,
  type BatchSource,
  type EpochLogs,
  earlyStopping,
  initBackend,
  saveModel,
  Trainer,
  type TrainerCallback,
} from '@graft/core';
import { balanceWarnings, batches, type Dataset, labelStats } from '@graft/datasets';
import { type ModelReport, multiTaskModel, tuneThresholds } from '@graft/heads';
import { loadConfig } from '../config/loadConfig';
import type { TrainConfig } from '../config/trainConfig';
import { loadDataset, prepareSplits } from '../pipeline/data';
import { disposeExportHeads, exportHeads } from '../pipeline/exportHeads';
import {
  configuredHeads,
  freezePolicy,
  learningRateSchedule,
  loadConfiguredBackbone,
  optimizerSpec,
  weightingStrategy,
} from '../pipeline/model';
import { describeReport, freezeRows, historyPoints, taskReports } from '../pipeline/reports';
import { renderReport } from '../report/renderReport';
import type { RunReport } from '../report/runReport';
import type { Reporter } from '../reporter';
import { createRunDirectory } from '../run/runDirectory';

export interface TrainOptions {
  config: string;
  /** `key.path=value` overrides, applied before validation (flags become these too). */
  set: readonly string[];
  force: boolean;
  backend: 'wasm' | 'cpu';
}

export interface TrainResult {
  runDir: string;
  policy: string;
  history: EpochLogs[];
  /** The test split's report (the validation split's when there is no test split). */
  report: ModelReport | undefined;
  evaluatedOn: 'test' | 'validation' | 'none';
  seconds: number;
}

/**
 * `graft train <config>`: what `graft demo` does, on the data, backbone, tasks and training
 * settings a config names. Everything a user can get wrong (config, dataset paths, backbone,
 * task/label mismatch, output folder) is checked before the run directory is created; the
 * run directory then receives the model (model.json + shards + graft.json), config.json,
 * metrics.json, run.log and report.html, each written atomically.
 */
export async function runTrain(options: TrainOptions, reporter: Reporter): Promise<TrainResult> {
  const started = performance.now();
  const config = await loadConfig(options.config, options.set);
  const baseDir = dirname(resolve(options.config));
  // Before any tensor exists: tensors belong to the backend they were made on.
  const info = await initBackend({ backend: options.backend });

  const dataset = await loadDataset(config.data, config.tasks, {
    seed: config.seed,
    configPath: options.config,
  });
  const backbone = await loadConfiguredBackbone(config, { baseDir });
  const model = multiTaskModel({
    backbone,
    tasks: configuredHeads(config.tasks),
    seed: config.seed,
  });
  model.checkTasks(dataset.tasks);

  const backendLine = `backend: ${info.name} (SIMD ${info.simd ? 'on' : 'off'}, ${info.threads} thread${info.threads === 1 ? '' : 's'})`;

  const splits = prepareSplits(dataset, config, {
    inputShape: backbone.inputShape,
    preprocessing: backbone.preprocessing,
  });
  const stats = await labelStats(splits.raw.train);
  const labelled = Object.fromEntries(Object.entries(stats.tasks).map(([t, s]) => [t, s.labelled]));
  const policy = freezePolicy(config.freeze, labelled);
  const plan = policy.plan(model);
  const rows = plan.explain();

  // Everything checked: the run directory now exists, and every line also goes to run.log.
  const run = await createRunDirectory(config.output, { force: options.force });
  const log: Reporter = {
    info: (m, d) => {
      run.log(m);
      reporter.info(m, d);
    },
    progress: (d, t) => {
      run.log(t);
      reporter.progress(d, t);
    },
    summary: (d, t) => {
      run.log(t);
      reporter.summary(d, t);
    },
  };
  // The config actually used, with data and backbone paths made absolute so that
  // `graft eval <run> <run>/config.json` reads the same data from anywhere.
  await run.writeJson('config.json', withAbsolutePaths(config, baseDir));
  const notes: string[] = [];
  try {
    log.info(backendLine, { backend: info.name, simd: info.simd, threads: info.threads });
    log.info(
      `data: ${dataset.size} examples (${splits.train.size} train / ${splits.validation.size} validation / ${splits.test.size} test); labelled in train: ${Object.entries(
        labelled,
      )
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')}`,
      { examples: dataset.size, labelled },
    );
    for (const w of balanceWarnings(stats)) {
      notes.push(w.message);
      log.info(`  note: ${w.message}`);
    }
    log.info(`backbone: ${describeBackbone(config, backbone)}`);
    log.info(`freeze: ${plan.policy}`, { policy: plan.policy });
    const why = rows[0]?.reason.match(/\[(.*)\]$/)?.[1];
    if (why) {
      notes.push(`freeze: ${plan.policy} (${why})`);
      log.info(`  why: ${why}`);
    }

    const batchSize = config.batchSize;
    const source = (
      at: (epoch: number) => Dataset,
      size: number,
      shuffle: boolean,
    ): BatchSource => ({
      batchCount: Math.ceil(size / batchSize),
      batches: (epoch) => batches(at(epoch), { batchSize, shuffle, seed: config.seed, epoch }),
    });
    const trainSource = source(splits.trainAt, splits.train.size, true);
    const validation =
      splits.validation.size > 0
        ? source(() => splits.validation, splits.validation.size, false)
        : undefined;
    const trainer = new Trainer({
      model,
      plan,
      optimizer: optimizerSpec(config.optimizer),
      schedule: learningRateSchedule(config.schedule, Math.ceil(splits.train.size / batchSize)),
      strategy: weightingStrategy(config.weighting),
      ...(config.optimizer.clipNorm !== undefined ? { clipNorm: config.optimizer.clipNorm } : {}),
      onWarning: (m) => {
        notes.push(m);
        log.info(`  note: ${m}`);
      },
    });
    const callbacks: TrainerCallback[] = [
      {
        onEpochEnd: (logs: EpochLogs) => {
          const tasks = Object.entries(logs.taskLosses)
            .map(([t, l]) => `${t} ${l.toFixed(3)}`)
            .join(', ');
          const v = logs.validation?.loss;
          log.progress(
            { epoch: logs.epoch + 1, epochs: config.epochs, loss: logs.loss, validationLoss: v },
            `epoch ${logs.epoch + 1}/${config.epochs}  loss ${logs.loss.toFixed(3)} (${tasks})${v === undefined ? '' : `  validation ${v.toFixed(3)}`}  ${logs.seconds.toFixed(1)} s`,
          );
        },
      },
    ];
    if (config.earlyStopping && validation) {
      callbacks.push(
        earlyStopping({ patience: config.earlyStopping.patience, restoreBestWeights: true }),
      );
    }
    const history = await trainer.fit(trainSource, {
      epochs: config.epochs,
      ...(validation ? { validation } : {}),
      callbacks,
    });
    if (history.stopReason) log.info(`stopped early: ${history.stopReason}`);

    if (validation) await tuneThresholds(model, validation);
    const evaluatedOn = splits.test.size > 0 ? 'test' : validation ? 'validation' : 'none';
    const evalSource =
      evaluatedOn === 'test'
        ? source(() => splits.test, splits.test.size, false)
        : evaluatedOn === 'validation'
          ? validation
          : undefined;
    const evaluation = evalSource ? await trainer.evaluate(evalSource) : undefined;
    const report = evaluation?.report as ModelReport | undefined;
    if (report) {
      log.info(`${evaluatedOn} split:`);
      for (const line of describeReport(report)) log.info(line);
    }

    const heads = exportHeads(model, backbone);
    const seconds = (performance.now() - started) / 1000;
    const lastValidation = history.epochs[history.epochs.length - 1]?.validation;
    try {
      await saveModel(run.path, {
        backbone,
        heads,
        freezePlan: freezeRows(rows),
        metrics: {
          ...(evaluation
            ? { [evaluatedOn]: { loss: evaluation.loss, ...evaluation.metrics } }
            : {}),
          ...(lastValidation && evaluatedOn !== 'validation'
            ? { validation: { loss: lastValidation.loss, ...lastValidation.metrics } }
            : {}),
        },
        training: {
          command: 'graft train',
          config: resolve(options.config),
          epochs: history.epochs.length,
          seed: config.seed,
          policy: plan.policy,
          examples: {
            train: splits.train.size,
            validation: splits.validation.size,
            test: splits.test.size,
          },
        },
      });
    } finally {
      disposeExportHeads(heads);
    }
    const kinds = Object.fromEntries(Object.entries(config.tasks).map(([t, c]) => [t, c.kind]));
    await run.writeJson('metrics.json', {
      evaluatedOn,
      ...(evaluation
        ? {
            [evaluatedOn]: {
              loss: evaluation.loss,
              taskLosses: evaluation.taskLosses,
              labelled: evaluation.labelled,
              metrics: evaluation.metrics,
              report,
            },
          }
        : {}),
      history: history.epochs,
      thresholds: Object.fromEntries(
        model.tasks
          .filter((t) => model.heads[t]?.kind === 'multiLabel')
          .map((t) => [t, model.thresholds(t)]),
      ),
      seconds,
    });
    const runReport: RunReport = {
      title: `graft train ${options.config}`,
      createdAt: new Date().toISOString(),
      environment: {
        backend: info.name,
        simd: info.simd,
        threads: info.threads,
        seed: config.seed,
      },
      history: historyPoints(history.epochs, kinds),
      tasks: report ? taskReports(report) : [],
      freezePlan: freezeRows(rows),
      notes,
    };
    await run.write('report.html', await renderReport(runReport));
    log.summary(
      { runDir: run.path, seconds, policy: plan.policy, evaluatedOn },
      `done in ${seconds.toFixed(0)} s: model, metrics.json, report.html in ${run.path}`,
    );
    trainer.dispose();
    return {
      runDir: run.path,
      policy: plan.policy,
      history: history.epochs,
      report,
      evaluatedOn,
      seconds,
    };
  } catch (e) {
    run.log(`failed: ${(e as Error).message}`);
    throw e;
  } finally {
    model.dispose();
    backbone.dispose();
  }
}

function describeBackbone(config: TrainConfig, backbone: Backbone): string {
  const params = backbone.params.reduce((n, p) => n + p.variable.size, 0);
  const what =
    config.backbone.source === 'shipped'
      ? 'shipped (pre-trained MobileNetV2)'
      : config.backbone.source === 'mobilenetv2'
        ? `MobileNetV2-${config.backbone.alpha} (random init)`
        : config.backbone.source;
  return `${what}, input [${backbone.inputShape.join(', ')}], ${backbone.blocks.length} blocks, ${params.toLocaleString('en')} parameters`;
}

function withAbsolutePaths(config: TrainConfig, baseDir: string): TrainConfig {
  const at = (p: string) => (/^[a-z]+:\/\//i.test(p) ? p : resolve(baseDir, p));
  const data =
    config.data.adapter === 'manifest' || config.data.adapter === 'imageFolder'
      ? { ...config.data, path: at(config.data.path) }
      : config.data.adapter === 'idx'
        ? { ...config.data, images: at(config.data.images), labels: at(config.data.labels) }
        : config.data;
  const source = config.backbone.source;
  const backbone =
    source === 'shipped' || source === 'mobilenetv2'
      ? config.backbone
      : { ...config.backbone, source: at(source) };
  return { ...config, data, backbone, output: resolve(config.output) };
}
