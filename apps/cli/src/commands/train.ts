import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  type Backbone,
  decodeTrainingState,
  type EpochLogs,
  fitDataParallel,
  GraftError,
  type History,
  initBackend,
  restoreTrainedParams,
  type StepLogs,
  saveModel,
  Trainer,
  type TrainerCallback,
  type TrainingState,
} from '@graft/core';
import { balanceWarnings, describeSkips, type SkipReport } from '@graft/datasets';
import { type ModelReport, tuneThresholds } from '@graft/heads';
import { loadConfig } from '../config/loadConfig';
import type { TrainConfig } from '../config/trainConfig';
import {
  REPLICA_STOP,
  replicaStopFlags,
  STOP_SIGNALS,
  type TrainReplicaOptions,
} from '../parallel/trainReplicaJob';
import { disposeExportHeads, exportHeads } from '../pipeline/exportHeads';
import { describeReport, freezeRows, historyPoints, taskReports } from '../pipeline/reports';
import { setupTraining } from '../pipeline/trainingSetup';
import type { StepProgress } from '../progressBar';
import { renderReport } from '../report/renderReport';
import type { RunReport } from '../report/runReport';
import { alsoLoggedTo, type Reporter, reportEpoch } from '../reporter';
import {
  checkpointReplicas,
  readCheckpoint,
  recordReplicas,
  runCheckpoints,
  type StoppedAt,
  saveCheckpoint,
} from '../run/checkpoints';
import { type InterruptWatch, watchInterrupts } from '../run/interrupts';
import { CHECKPOINT_FILE, createRunDirectory, type RunDirectory } from '../run/runDirectory';

/** Most replicas `graft train --replicas` takes. */
export const MAX_REPLICAS = 16;

export interface TrainOptions {
  config: string;
  /** `key.path=value` overrides, applied before validation (flags become these too). */
  set: readonly string[];
  force: boolean;
  /** Continue the interrupted run in the config's output folder from its checkpoint. */
  resume?: boolean;
  backend: 'wasm' | 'cpu';
  /**
   * Train data-parallel on this many worker threads (one core each; default 1: the main
   * thread trains). Batch norm then normalises over each replica's rows.
   */
  replicas?: number;
}

export interface TrainResult {
  runDir: string;
  policy: string;
  history: EpochLogs[];
  /** The test split's report (the validation split's when there is no test split). */
  report: ModelReport | undefined;
  evaluatedOn: 'test' | 'validation' | 'none';
  seconds: number;
  /** Set when a signal stopped the run: it saved a checkpoint and wrote no model. */
  stopped?: StoppedAt;
}

/**
 * `graft train <config>`: what `graft demo` does, on the data, backbone, tasks and training
 * settings a config names. Everything a user can get wrong (config, dataset paths, backbone,
 * task/label mismatch, output folder) is checked before the run directory is created; the
 * run directory then receives the model (model.json + shards + graft.json), config.json,
 * metrics.json, run.log and report.html, each written atomically.
 *
 * Ctrl-C (or SIGTERM) stops after the current step and saves `checkpoint.bin`, as every epoch
 * end does; `resume` continues from it and ends with the numbers and weights of a run that was
 * never stopped. A run that fails removes the folder it created (its log is kept in a temp
 * folder), so nothing half-written is left.
 */
export async function runTrain(options: TrainOptions, reporter: Reporter): Promise<TrainResult> {
  const started = performance.now();
  const resume = Boolean(options.resume);
  if (resume && options.force) {
    throw new GraftError('INVALID_ARGUMENT', '--resume and --force contradict each other', {
      where: 'graft train',
      hint: '--resume continues the interrupted run; --force throws it away and starts again.',
    });
  }
  const replicas = options.replicas ?? 1;
  if (!(Number.isInteger(replicas) && replicas >= 1 && replicas <= MAX_REPLICAS)) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `--replicas must be a whole number from 1 to ${MAX_REPLICAS}, got ${replicas}`,
      { where: 'graft train' },
    );
  }
  if (replicas > 1 && options.backend !== 'wasm') {
    throw new GraftError('INVALID_ARGUMENT', '--replicas trains on the wasm backend only', {
      where: 'graft train',
      hint: `Leave out --backend ${options.backend}, or train with --replicas 1.`,
    });
  }
  const config = await loadConfig(options.config, options.set);
  if (replicas > 1 && config.weighting === 'gradnorm') {
    // Checked before the run directory exists (fitDataParallel would refuse it later).
    throw new GraftError('INVALID_ARGUMENT', 'gradnorm weighting cannot train with --replicas', {
      where: 'graft train',
      hint: "It updates its weights from each batch's gradients outside the model, so the replicas would drift apart. Use --replicas 1, or another weighting (equal, static, uncertainty, dwa, pcgrad).",
    });
  }
  const baseDir = dirname(resolve(options.config));
  // Before any tensor exists: tensors belong to the backend they were made on.
  const info = await initBackend({ backend: options.backend });

  const setup = await setupTraining(config, { configPath: options.config, baseDir });
  const { dataset, backbone, model, splits, stats, labelled, plan, rows } = setup;

  // The replicas train on single-threaded wasm (one core each).
  const backendLine =
    replicas > 1
      ? `backend: ${info.name} (SIMD ${info.simd ? 'on' : 'off'}, 1 thread) x ${replicas} replicas`
      : `backend: ${info.name} (SIMD ${info.simd ? 'on' : 'off'}, ${info.threads} thread${info.threads === 1 ? '' : 's'})`;

  // Everything checked: the run directory now exists, and every line also goes to run.log.
  const usedConfig = withAbsolutePaths(config, baseDir);
  const run = await createRunDirectory(config.output, { force: options.force, resume });
  const log = alsoLoggedTo((line) => run.log(line), reporter);
  const notes: string[] = [];
  let stopped: StoppedAt | undefined;
  // --replicas: replica 0 reads the signal from shared memory after its next step.
  const stopFlags = replicas > 1 ? replicaStopFlags() : undefined;
  const interrupts = watchInterrupts((signal) => {
    if (stopFlags) Atomics.store(stopFlags, REPLICA_STOP.signal, STOP_SIGNALS.indexOf(signal));
    reporter.info(`${signal}: stopping after the current step to save a checkpoint`);
  });
  try {
    const resumeFrom = resume ? await readCheckpoint(run) : undefined;
    if (resume) await sameConfig(run.path, usedConfig);
    // The config actually used, with data and backbone paths made absolute so that
    // `graft eval <run> <run>/config.json` reads the same data from anywhere.
    else await run.writeJson('config.json', usedConfig);
    if (resumeFrom) {
      log.info(
        `resuming from ${CHECKPOINT_FILE}: epoch ${resumeFrom.cursor.epoch + 1}, batch ${resumeFrom.cursor.batch}, step ${resumeFrom.globalStep}`,
        {
          resumedAt: {
            epoch: resumeFrom.cursor.epoch,
            batch: resumeFrom.cursor.batch,
            step: resumeFrom.globalStep,
          },
        },
      );
      const before = checkpointReplicas(resumeFrom);
      if (before !== replicas) {
        // Allowed (a machine with fewer cores can finish the run), but not the same run.
        const m = `warning: ${CHECKPOINT_FILE} was written by a run on ${before} replica${before === 1 ? '' : 's'}, this one trains on ${replicas}: batch norm normalises over each replica's rows, so the result will differ from an uninterrupted run (resume with --replicas ${before} to get the same one)`;
        notes.push(m);
        log.info(`  ${m}`, { checkpointReplicas: before, replicas });
      }
    }
    log.info(
      backendLine,
      replicas > 1
        ? { backend: info.name, simd: info.simd, threads: 1, replicas }
        : { backend: info.name, simd: info.simd, threads: info.threads },
    );
    log.info(
      `data: ${dataset.size} examples (${splits.train.size} train / ${splits.validation.size} validation / ${splits.test.size} test); labelled in train: ${Object.entries(
        labelled,
      )
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')}`,
      { examples: dataset.size, labelled },
    );
    // data.skipInvalid: say what was left out, or the only sign is a smaller example count.
    const skipped = (dataset as { skipped?: SkipReport }).skipped;
    if (skipped && skipped.skipped > 0) {
      const first = skipped.examples[0];
      const m = `${describeSkips(skipped)} (data.skipInvalid)${first ? `; first: ${first.where}: ${first.reason}` : ''}`;
      notes.push(m);
      log.info(`  note: ${m}`);
    }
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

    const { source, trainSource, validation } = setup;
    // In the main thread also with --replicas: it evaluates the trained model.
    // The replicas' warnings (replica 0's, through fitDataParallel) print the same way.
    const onWarning = (m: string) => {
      notes.push(m);
      log.info(`  note: ${m}`);
    };
    const trainer = new Trainer({ ...setup.trainer, onWarning });
    let history: History;
    let step: number;
    if (stopFlags) {
      const parallel = await fitReplicas({
        replicas,
        job: {
          config: options.config,
          set: options.set,
          baseDir,
          stop: stopFlags,
          stopState: join(tmpdir(), `graft-stop-${process.pid}-${Date.now()}.bin`),
        },
        epochs: config.epochs,
        batchCount: trainSource.batchCount,
        run,
        log,
        reporter,
        interrupts,
        onWarning,
        ...(resumeFrom ? { resumeFrom } : {}),
      });
      history = parallel.history;
      step = parallel.state.globalStep;
      stopped = parallel.stopped;
      if (!stopped) restoreTrainedParams(model.params, parallel.state);
    } else {
      const bar = reporter.steps
        ? stepBar(reporter.steps, config.epochs, trainSource.batchCount)
        : undefined;
      const callbacks: TrainerCallback[] = [
        ...(bar ? [{ onStepEnd: bar.step, onEpochEnd: bar.end }] : []),
        {
          onEpochEnd: (logs: EpochLogs) => {
            // Stopped by a signal mid-epoch: the partial epoch is not an epoch of the run.
            if (!stopped) reportEpoch(log, logs, config.epochs);
          },
        },
        ...setup.callbacks(),
        recordReplicas(1),
      ];
      // Last: the checkpoint then holds every other callback's decision.
      callbacks.push(
        runCheckpoints(run, interrupts, (at) => {
          stopped = at;
        }),
      );
      history = await trainer.fit(trainSource, {
        epochs: config.epochs,
        ...(validation ? { validation } : {}),
        callbacks,
        ...(resumeFrom ? { resumeFrom } : {}),
      });
      step = trainer.step;
    }
    const signal = interrupts.signal;
    if (signal !== undefined) {
      // A signal after the last epoch: the end-of-training checkpoint is already saved.
      const at: StoppedAt = stopped ?? {
        signal,
        epoch: config.epochs,
        batch: 0,
        step,
      };
      // An interrupted run with its checkpoint is a run: the one --force replaced goes now.
      await run.finish();
      const seconds = (performance.now() - started) / 1000;
      log.summary(
        { stopped: true, ...at, runDir: run.path, checkpoint: CHECKPOINT_FILE },
        `stopped by ${signal} at epoch ${Math.min(at.epoch + 1, config.epochs)}, step ${at.step}: checkpoint saved in ${run.path}; continue with: graft train ${options.config}${options.set.length > 0 ? ' <the same flags>' : ''} --resume`,
      );
      trainer.dispose();
      return {
        runDir: run.path,
        policy: plan.policy,
        history: history.epochs,
        report: undefined,
        evaluatedOn: 'none',
        seconds,
        stopped: at,
      };
    }
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
      ...(replicas > 1 ? { replicas } : {}),
    });
    const runReport: RunReport = {
      title: `graft train ${options.config}`,
      createdAt: new Date().toISOString(),
      environment: {
        backend: info.name,
        simd: info.simd,
        threads: replicas > 1 ? 1 : info.threads,
        ...(replicas > 1 ? { replicas } : {}),
        seed: config.seed,
      },
      history: historyPoints(history.epochs, kinds),
      tasks: report ? taskReports(report) : [],
      freezePlan: freezeRows(rows),
      notes,
    };
    await run.write('report.html', await renderReport(runReport));
    // Finished: the folder is a complete run, with nothing left to resume.
    await run.remove(CHECKPOINT_FILE);
    await run.finish();
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
    // Nothing half-written: a new run's folder goes; a resumed one keeps its checkpoint.
    const kept = await run.discard().catch(() => undefined);
    if (kept && !run.resumed) {
      process.stderr.write(`graft: the failed run's folder was removed; its log is in ${kept}\n`);
    }
    throw e;
  } finally {
    reporter.steps?.stop();
    interrupts.dispose();
    setup.dispose();
  }
}

/** Feeds the terminal's step bar: steps, ETA, loss, and the last validation's key numbers. */
function stepBar(bar: StepProgress, epochs: number, steps: number | undefined) {
  let shown = -1;
  let metric: string | undefined;
  return {
    /** Starts the epoch's bar at its first step, then advances it. */
    step(logs: StepLogs): void {
      if (logs.epoch !== shown) {
        shown = logs.epoch;
        bar.start(`epoch ${logs.epoch + 1}/${epochs}`, steps ?? 0);
      }
      bar.update(logs.batch + 1, { loss: logs.loss, ...(metric ? { metric } : {}) });
    },
    /** Ends the epoch's bar; the next one shows this epoch's validation loss and metric. */
    end(logs: EpochLogs): void {
      const v = logs.validation;
      const [key, value] = Object.entries(v?.metrics ?? {})[0] ?? [];
      if (v)
        metric = `val loss ${v.loss.toFixed(3)}${key !== undefined ? `  ${key} ${value?.toFixed(3)}` : ''}`;
      bar.stop();
      shown = -1;
    },
  };
}

/**
 * `graft train --replicas N`: fitDataParallel on the job module built next to this file
 * (dist/trainReplicaJob.js), with what the main thread does around a Trainer's fit: the step
 * bar, the epoch lines, the warnings, checkpoint.bin at every epoch end, and on a signal the
 * checkpoint replica 0 wrote after the step it stopped at (the state fit returns has closed
 * that epoch, so a run resumed from it would skip the epoch's remaining batches).
 */
async function fitReplicas(args: {
  replicas: number;
  job: TrainReplicaOptions;
  epochs: number;
  batchCount: number | undefined;
  run: RunDirectory;
  log: Reporter;
  reporter: Reporter;
  interrupts: InterruptWatch;
  onWarning: (message: string) => void;
  resumeFrom?: TrainingState;
}): Promise<{ history: History; state: TrainingState; stopped?: StoppedAt }> {
  const { job, epochs, run, log, interrupts } = args;
  const bar = args.reporter.steps
    ? stepBar(args.reporter.steps, epochs, args.batchCount)
    : undefined;
  // The epoch replica 0 stopped in (+1), 0 while training goes on: its closing logs (fit
  // closes a stopped epoch) are not an epoch of the run, and its state is not a checkpoint.
  const stoppedIn = () => Atomics.load(job.stop, REPLICA_STOP.stoppedEpoch) - 1;
  try {
    const result = await fitDataParallel({
      job: new URL('./trainReplicaJob.js', import.meta.url),
      replicas: args.replicas,
      options: job,
      epochStates: true,
      ...(args.resumeFrom ? { resumeFrom: args.resumeFrom } : {}),
      onStepEnd: (logs: StepLogs) => bar?.step(logs),
      onWarning: args.onWarning,
      onEpochEnd: async (logs: EpochLogs, state?: TrainingState) => {
        bar?.end(logs);
        const stopped = stoppedIn();
        if (stopped >= 0 && logs.epoch >= stopped) return;
        reportEpoch(log, logs, epochs);
        if (state) await saveCheckpoint(run, state, `end of epoch ${logs.epoch + 1}`);
      },
    });
    const signal = interrupts.signal;
    if (stoppedIn() < 0 || signal === undefined) return result;
    const bytes = await readFile(job.stopState);
    const state = decodeTrainingState(bytes, job.stopState);
    await saveCheckpoint(run, state, signal);
    return {
      ...result,
      stopped: {
        signal,
        epoch: state.cursor.epoch,
        batch: state.cursor.batch,
        step: state.globalStep,
      },
    };
  } finally {
    await rm(job.stopState, { force: true });
  }
}

/**
 * A resumed run must train exactly as the interrupted one would have: same data, model,
 * schedule length and seed. Compares the config with the one the run started with.
 */
async function sameConfig(runDir: string, config: TrainConfig): Promise<void> {
  const path = join(runDir, 'config.json');
  const before = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  const now = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  const differs = Object.keys({ ...before, ...now }).filter(
    (k) => JSON.stringify(before[k]) !== JSON.stringify(now[k]),
  );
  if (differs.length > 0) {
    throw new GraftError(
      'CHECKPOINT_INVALID',
      `The config differs from the one the interrupted run started with (${differs.join(', ')})`,
      {
        where: path,
        hint: 'Resume with the same config file and the same --set / --epochs / --seed flags.',
      },
    );
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
