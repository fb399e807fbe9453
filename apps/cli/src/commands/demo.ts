import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type EpochLogs,
  GraftError,
  initBackend,
  pretrainedBackbone,
  saveModel,
  Trainer,
} from '@graft/core';
import {
  balanceWarnings,
  batchSource,
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
import { disposeExportHeads, exportHeads } from '../pipeline/exportHeads';
import { freezeRows, historyPoints, taskReports } from '../pipeline/reports';
import { renderReport } from '../report/renderReport';
import { alsoLoggedTo, type Reporter, reportEpoch } from '../reporter';
import { discardOnInterrupt } from '../run/interrupts';
import { createRunDirectory } from '../run/runDirectory';

export interface DemoOptions {
  /** Generated scenes in total (70% train, 15% validation, 15% test). */
  scenes: number;
  epochs: number;
  batch: number;
  seed: number;
  backend: 'wasm' | 'cpu';
  /**
   * Run directory for the model, metrics.json and report.html. Default `runs/graft-demo`
   * (beside `graft train`'s `runs/graft-run`). A previous demo's output there is replaced; any
   * other existing folder is refused.
   */
  out?: string;
}

export interface DemoResult {
  backend: string;
  policy: string;
  freezePlan: ExplainRow[];
  history: EpochLogs[];
  test: ModelReport;
  /** Chance levels on the test split, for reading the metrics. */
  chance: ChanceLevels;
  /** Where the model (model.json, shards, graft.json), metrics.json and report.html are. */
  runDir: string;
  seconds: number;
}

export interface ChanceLevels {
  /** ROC-AUC of a predictor that ignores the image. */
  presenceAuc: number;
  /** Accuracy of always answering the test split's commonest colour (the best constant). */
  lightColourAccuracy: number;
  /** R² of predicting the test split's mean count. */
  carCountR2: number;
}

/**
 * Where the demo's heads read the shipped trunk. At 64x64 the full MobileNetV2 ends in a 2x2
 * map, where a pedestrian, a stop sign or a traffic lamp covers a fraction of one cell; cut
 * after block 12 (4x4, 192 channels) the trunk keeps them, is a quarter the size (98,512 values
 * instead of 410,208, so the rule of thumb opens more of it for the same data) and is cheaper
 * to run. Measured on validation
 * scenes (not the test split): see the README.
 */
export const DEMO_TRUNK = {
  cutAt: 'block_13_expand_relu',
  /** The traffic-light colour reads an earlier, finer map: a lit lamp is a pixel or two. */
  lightColourAt: 'Conv1_relu' as string | undefined,
} as const;

/**
 * The demo's scenes: objects within the nearer 60% of the road. With the default (anywhere
 * up to the horizon) a distant stop sign is two or three pixels across and a lit lamp one
 * pixel at 64x64: labelled present, but next to invisible at this size.
 */
export const DEMO_SCENES = { maxDistance: 0.6 } as const;

/** Fewest scenes that leave a few for validation (thresholds) and test (metrics). */
const MIN_SCENES = 40;

/** Marker a demo writes into its run directory, so that the next demo may replace it. */
const DEMO_MARKER = 'demo.json';

/**
 * `graft demo`: the source notes' driving example, end to end, with no download. Generated
 * road scenes carry four presence labels (pedestrian, car, stop sign, traffic light — several
 * at once, so sigmoids, not softmax), the traffic light's colour and the number of cars, with
 * labels missing. The shipped backbone is the trunk, `ruleOfThumb` decides how much of it to
 * retrain and says why, one multi-task network learns all three tasks at once, the test split
 * is scored per task against chance, and the model, metrics.json and report.html are written
 * to a run directory (what `graft train` writes).
 */
export async function runDemo(options: DemoOptions, reporter: Reporter): Promise<DemoResult> {
  const started = performance.now();
  if (!(Number.isInteger(options.scenes) && options.scenes >= MIN_SCENES)) {
    throw new GraftError('INVALID_ARGUMENT', `The demo needs at least ${MIN_SCENES} scenes`, {
      where: `--scenes ${options.scenes}`,
      hint: 'The validation and test splits get 15% each and must not be empty.',
    });
  }
  const out = resolve(options.out ?? 'runs/graft-demo');
  // Before any work: a folder that is not a previous demo's output is never deleted.
  const replacing = await previousDemoOutput(out);
  const info = await initBackend({ backend: options.backend });

  // The shipped trunk, cut where small objects still cover a feature-map cell (see DEMO_TRUNK).
  const shipped = pretrainedBackbone();
  const backbone = shipped.cut(DEMO_TRUNK.cutAt);
  const size = backbone.inputShape[0] as number;
  // Data: generated scenes, some labels blanked ("?"), split by index (scenes are i.i.d.).
  const scenes = drivingScenes({
    count: options.scenes,
    seed: options.seed,
    size,
    missing: { presence: 0.15, carCount: 0.2 },
    maxDistance: DEMO_SCENES.maxDistance,
  });
  const nTrain = Math.round(options.scenes * 0.7);
  const nValidation = Math.round(options.scenes * 0.15);
  const nTest = options.scenes - nTrain - nValidation;
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
  const test = prepare(range(nTrain + nValidation, nTest));
  const stats = await labelStats(subset(scenes, range(0, nTrain)));
  const labelled = Object.fromEntries(Object.entries(stats.tasks).map(([t, s]) => [t, s.labelled]));

  // Model: the shipped trunk, one head per task.
  const model = multiTaskModel({
    backbone,
    tasks: {
      presence: multiLabel({ labels: drivingSceneObjects, pooling: 'max', hidden: [64] }),
      lightColour: classification({
        classes: trafficLightColours,
        pooling: 'max',
        hidden: [32],
        ...(DEMO_TRUNK.lightColourAt ? { attachAt: DEMO_TRUNK.lightColourAt } : {}),
      }),
      carCount: regression({ outputs: 1, hidden: [32] }),
    },
    seed: options.seed,
  });
  model.checkTasks(scenes.tasks);
  // How much to retrain: the rule of thumb, explained.
  const plan = ruleOfThumb({ labelled }).plan(model);
  const rows = plan.explain();

  const run = await createRunDirectory(out, { force: replacing });
  await run.writeJson(DEMO_MARKER, { command: 'graft demo', options: { ...options, out } });
  const notes: string[] = [];
  const log = alsoLoggedTo((line) => run.log(line), reporter);
  let trainer: Trainer | undefined;
  // Ctrl-C stops the demo at once; like a failure, it leaves no half-written folder.
  const interrupts = discardOnInterrupt(
    run,
    (signal) => `graft: demo stopped by ${signal}; its unfinished output was removed`,
  );
  try {
    log.info(
      `backend: ${info.name} (SIMD ${info.simd ? 'on' : 'off'}, ${info.threads} thread${info.threads === 1 ? '' : 's'})`,
      { backend: info.name, simd: info.simd, threads: info.threads },
    );
    if (replacing) log.info(`output: ${out} (replacing the previous demo's output there)`);
    else log.info(`output: ${out}`);
    log.info(
      `data: ${options.scenes} generated ${size}x${size} road scenes (${train.size} train / ${validation.size} validation / ${test.size} test); labelled in train: ${Object.entries(
        labelled,
      )
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')}`,
      { scenes: options.scenes, labelled },
    );
    const trunkParams = backbone.params.reduce((n, p) => n + p.variable.size, 0);
    log.info(
      `backbone: the shipped MobileNetV2-${shipped.alpha} (pre-trained on generated shapes), cut at ${DEMO_TRUNK.cutAt}: [${backbone.inputShape.join(', ')}] -> [${backbone.outputShape.join(', ')}], ${trunkParams.toLocaleString('en')} parameters`,
    );
    for (const w of balanceWarnings(stats)) {
      notes.push(w.message);
      log.info(`  note: ${w.message}`);
    }
    log.info(`freeze: ${plan.policy}`, { policy: plan.policy });
    const why = rows[0]?.reason.match(/\[(.*)\]$/)?.[1];
    if (why) {
      notes.push(`freeze: ${plan.policy} (${why})`);
      log.info(`  why: ${why}`);
    }
    log.info(`  ${summariseRows(rows)}`);

    const source = (ds: Dataset, shuffle: boolean) =>
      batchSource(ds, { batchSize: options.batch, shuffle, seed: options.seed });
    trainer = new Trainer({
      model,
      plan,
      optimizer: { type: 'adamw', learningRate: 3e-3, weightDecay: 1e-4 },
      onWarning: (m) => {
        notes.push(m);
        log.info(`  note: ${m}`);
      },
    });
    const history = await trainer.fit(source(train, true), {
      epochs: options.epochs,
      validation: source(validation, false),
      callbacks: [
        {
          onEpochEnd: (logs: EpochLogs) => reportEpoch(log, logs, options.epochs),
        },
      ],
    });

    // Thresholds tuned on validation, then the test split, per task, against chance.
    await tuneThresholds(model, source(validation, false));
    const evaluation = await trainer.evaluate(source(test, false));
    const report = evaluation.report as ModelReport;
    const chance = await chanceLevels(subset(scenes, range(nTrain + nValidation, nTest)));
    for (const line of describeAgainstChance(report, chance, test.size)) log.info(line);
    const margins = marginsOverChance(report, chance);

    // The model, as `graft train` saves it: model.json + shards + graft.json.
    const seconds = (performance.now() - started) / 1000;
    const heads = exportHeads(model, backbone);
    const lastValidation = history.epochs[history.epochs.length - 1]?.validation;
    try {
      await saveModel(run.path, {
        backbone,
        heads,
        freezePlan: freezeRows(rows),
        metrics: {
          test: { loss: evaluation.loss, ...evaluation.metrics },
          ...(lastValidation
            ? { validation: { loss: lastValidation.loss, ...lastValidation.metrics } }
            : {}),
        },
        training: {
          command: 'graft demo',
          epochs: history.epochs.length,
          seed: options.seed,
          policy: plan.policy,
          examples: { train: train.size, validation: validation.size, test: test.size },
        },
      });
    } finally {
      disposeExportHeads(heads);
    }
    await run.writeJson('metrics.json', {
      evaluatedOn: 'test',
      test: {
        loss: evaluation.loss,
        taskLosses: evaluation.taskLosses,
        labelled: evaluation.labelled,
        metrics: evaluation.metrics,
        report,
      },
      chance,
      aboveChance: margins,
      history: history.epochs,
      thresholds: { presence: model.thresholds('presence') },
      seconds,
    });
    const kinds = {
      presence: 'multiLabel',
      lightColour: 'classification',
      carCount: 'regression',
    } as const;
    await run.write(
      'report.html',
      await renderReport({
        title: 'graft demo: multi-task learning on generated road scenes',
        createdAt: new Date().toISOString(),
        environment: {
          backend: info.name,
          simd: info.simd,
          threads: info.threads,
          seed: options.seed,
          scenes: options.scenes,
          epochs: options.epochs,
        },
        history: historyPoints(history.epochs, kinds),
        tasks: taskReports(report),
        freezePlan: freezeRows(rows),
        notes: [...notes, ...chanceNotes(margins, chance)],
      }),
    );
    await run.finish();
    log.summary(
      { backend: info.name, seconds, policy: plan.policy, runDir: run.path },
      `done in ${seconds.toFixed(0)} s on ${info.name}: model (model.json, graft.json), metrics.json and report.html in ${run.path}`,
    );
    return {
      backend: info.name,
      policy: plan.policy,
      freezePlan: rows,
      history: history.epochs,
      test: report,
      chance,
      runDir: run.path,
      seconds,
    };
  } catch (e) {
    run.log(`failed: ${(e as Error).message}`);
    // As `graft train`: nothing half-written is left under the output name.
    const kept = await run.discard().catch(() => undefined);
    if (kept)
      process.stderr.write(`graft: the failed demo's folder was removed; its log is in ${kept}\n`);
    throw e;
  } finally {
    interrupts.dispose();
    trainer?.dispose();
    model.dispose();
    // The cut shares its variables with the shipped trunk: disposing that frees both.
    shipped.dispose();
  }
}

/**
 * Whether `out` may be replaced: true when it holds a previous demo's output (its marker
 * file) or is empty, false when it does not exist. Anything else is the user's and is refused: the demo
 * overwrites only what it wrote, so that running it twice just works.
 */
async function previousDemoOutput(out: string): Promise<boolean> {
  const marker = await readFile(join(out, DEMO_MARKER), 'utf8').then(
    (text) => text,
    () => undefined,
  );
  if (marker !== undefined) {
    try {
      if ((JSON.parse(marker) as { command?: unknown }).command === 'graft demo') return true;
    } catch {
      // Not ours after all: refused below.
    }
  }
  const entries = await readdir(out).then(
    (names) => names,
    (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : ['(not a folder)']),
  );
  if (entries === undefined) return false;
  if (entries.length === 0) return true;
  throw new GraftError('RUN_DIR_EXISTS', 'The demo output folder exists and is not a demo run', {
    where: out,
    hint: 'The demo replaces only its own previous output. Choose another folder with --out.',
  });
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

async function chanceLevels(test: Dataset): Promise<ChanceLevels> {
  const stats = await labelStats(test);
  const counts = Object.values(stats.tasks.lightColour?.classCounts ?? {});
  const total = counts.reduce((a, b) => a + b, 0);
  return {
    presenceAuc: 0.5,
    lightColourAccuracy: total > 0 ? Math.max(...counts) / total : Number.NaN,
    carCountR2: 0,
  };
}

/** Per label and task: the test metric minus chance (positive = better than chance). */
export interface ChanceMargins {
  presence: Record<string, number>;
  lightColour: number;
  carCount: number;
}

function marginsOverChance(report: ModelReport, chance: ChanceLevels): ChanceMargins {
  const margins: ChanceMargins = { presence: {}, lightColour: Number.NaN, carCount: Number.NaN };
  for (const r of Object.values(report.tasks)) {
    if (r.kind === 'multiLabel') {
      for (const l of r.labels) margins.presence[l.label] = l.auc - chance.presenceAuc;
    } else if (r.kind === 'classification') {
      margins.lightColour = r.accuracy - chance.lightColourAccuracy;
    } else margins.carCount = r.mean.r2 - chance.carCountR2;
  }
  return margins;
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
const versus = (margin: number) =>
  !Number.isFinite(margin)
    ? 'not measurable (no labels)'
    : margin > 0
      ? `above chance by ${margin.toFixed(3)}`
      : `NOT above chance (${margin.toFixed(3)})`;

function describeAgainstChance(
  report: ModelReport,
  chance: ChanceLevels,
  scenes: number,
): string[] {
  const lines = [`test split (${scenes} scenes never seen in training), each next to chance:`];
  for (const [task, r] of Object.entries(report.tasks)) {
    if (r.kind === 'multiLabel') {
      lines.push(
        `  ${task}: ROC-AUC per label (chance ${chance.presenceAuc.toFixed(3)}: a score that ignores the image)`,
      );
      const width = Math.max(...r.labels.map((l) => l.label.length));
      for (const l of r.labels) {
        lines.push(
          `    ${l.label.padEnd(width)}  AUC ${fmt(l.auc)}  ${versus(l.auc - chance.presenceAuc)}  (F1 ${fmt(l.f1)} at threshold ${l.threshold.toFixed(2)})`,
        );
      }
      lines.push(
        `    mean AUC ${fmt(r.mean.auc)}, mAP ${fmt(r.mean.mAP)}, mean F1 ${fmt(r.mean.f1)}`,
      );
    } else if (r.kind === 'classification') {
      lines.push(
        `  ${task}: accuracy ${fmt(r.accuracy)} (chance ${fmt(chance.lightColourAccuracy)}: always the commonest colour)  ${versus(r.accuracy - chance.lightColourAccuracy)}  (macro-F1 ${fmt(r.macroF1)})`,
      );
    } else {
      lines.push(
        `  ${task}: R² ${fmt(r.mean.r2)} (chance ${chance.carCountR2.toFixed(3)}: always the mean count)  ${versus(r.mean.r2 - chance.carCountR2)}  (MAE ${fmt(r.mean.mae)})`,
      );
    }
  }
  return lines;
}

function chanceNotes(margins: ChanceMargins, chance: ChanceLevels): string[] {
  const signed = (m: number) => `${m >= 0 ? '+' : ''}${fmt(m)}`;
  const labels = Object.entries(margins.presence)
    .map(([label, m]) => `${label} ${signed(m)}`)
    .join(', ');
  return [
    `test metrics minus chance: presence ROC-AUC (chance ${chance.presenceAuc}) ${labels}; lightColour accuracy (chance ${fmt(chance.lightColourAccuracy)}) ${signed(margins.lightColour)}; carCount R² (chance ${chance.carCountR2}) ${signed(margins.carCount)}`,
  ];
}
