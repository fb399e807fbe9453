import { dirname, resolve } from 'node:path';
import { GraftError, initBackend } from '@graft/core';
import { multiTaskModel } from '@graft/heads';
import { loadConfig } from '../config/loadConfig';
import type { TrainConfig } from '../config/trainConfig';
import {
  keyMetricName,
  multiTaskVerdict,
  policyVerdict,
  type Stat,
  stat,
  type TaskMetric,
  transferVerdict,
} from '../pipeline/compareVerdicts';
import {
  comparisonRunner,
  type RunResult,
  type RunSpec,
  taskKinds,
} from '../pipeline/comparisonRun';
import { loadDataset, prepareSplits } from '../pipeline/data';
import { configuredHeads, loadConfiguredBackbone } from '../pipeline/model';
import type {
  CompareReport,
  CompareRow,
  MultiTaskStudy,
  PolicyStudy,
  TransferStudy,
} from '../report/compareReport';
import { compareTables, formatTextTable } from '../report/compareTables';
import { renderCompareReport } from '../report/renderCompareReport';
import { alsoLoggedTo, type Reporter } from '../reporter';
import { discardOnInterrupt } from '../run/interrupts';
import { createRunDirectory } from '../run/runDirectory';
import { parsePolicy } from './inspect';

export type StudyName = 'transfer' | 'multiTask' | 'policies';
export const STUDY_NAMES: readonly StudyName[] = ['transfer', 'multiTask', 'policies'];
export const DEFAULT_POLICIES = ['headsOnly', 'lastBlocks:2', 'all', 'fineTune', 'ruleOfThumb'];

export interface CompareOptions {
  config: string;
  /** `key.path=value` overrides, as for `graft train`. */
  set: readonly string[];
  /** Training-set fractions for the transfer study, each in (0, 1]. */
  fractions: readonly number[];
  /** Freeze policies for the policy study, as `graft inspect --policy` spells them. */
  policies: readonly string[];
  /** Seeds per configuration: the config's seed, then the next ones. */
  seeds: number;
  studies: readonly StudyName[];
  /** Run directory; default: the config's output + `-compare`. */
  output?: string;
  force: boolean;
  backend: 'wasm' | 'cpu';
  /** Smallest difference a verdict calls an effect. */
  minDelta: number;
}

/** `lastBlocks(2)` (how plans print) or `lastBlocks:2` (how `inspect --policy` reads). */
export function parseComparePolicy(text: string): TrainConfig['freeze'] {
  try {
    return parsePolicy(text.replace(/^(\w+)\((\w*)\)$/, (_, n, a) => (a ? `${n}:${a}` : n)));
  } catch (cause) {
    throw new GraftError('INVALID_ARGUMENT', `Unknown freeze policy "${text}"`, {
      where: '--policies',
      hint: 'Use a comma-separated list of ruleOfThumb, headsOnly, all, bnOnly, fineTune, discriminative, lastBlocks:N or gradual:N.',
      cause,
    });
  }
}

const percent = (f: number) => `${Math.round(f * 100)}%`;

/**
 * `graft compare <config>`: the source notes' questions, answered on the user's own data by
 * training the config's model several ways and scoring every run on the same validation
 * split. (a) transfer vs scratch at several training-set fractions; (b) one multi-task
 * network vs one network per task (same trunk, freeze plan, epochs, batch size); (c) freeze
 * policies side by side on the full training set. Prints a table per study and a verdict
 * computed from the numbers; the run directory receives compare.json, config.json, run.log
 * and report.html (charts as inline SVG).
 */
export async function runCompare(
  options: CompareOptions,
  reporter: Reporter,
): Promise<CompareReport> {
  const started = performance.now();
  for (const f of options.fractions) {
    if (!(f > 0 && f <= 1)) {
      throw new GraftError('INVALID_ARGUMENT', `Training fraction ${f} is not in (0, 1]`, {
        where: '--fractions',
        hint: 'Give fractions of the training split, e.g. --fractions 0.25,0.5,1.',
      });
    }
  }
  const policies = options.policies.map((p) => ({ label: p, freeze: parseComparePolicy(p) }));
  const config = await loadConfig(options.config, options.set);
  if (config.split.validation === 0) {
    throw new GraftError(
      'CONFIG_INVALID',
      'compare scores every run on the validation split, which is empty',
      {
        where: `${options.config}: split.validation`,
        hint: 'Set split.validation to a fraction such as 0.2.',
      },
    );
  }
  const baseDir = dirname(resolve(options.config));
  const info = await initBackend({ backend: options.backend });
  const dataset = await loadDataset(config.data, config.tasks, {
    seed: config.seed,
    configPath: options.config,
  });
  // Checked before the run directory exists: the backbone loads, the tasks match the data.
  const backbone = await loadConfiguredBackbone(config, { baseDir });
  const probe = multiTaskModel({ backbone, tasks: configuredHeads(config.tasks), seed: 1 });
  const splits = prepareSplits(dataset, config, {
    inputShape: backbone.inputShape,
    preprocessing: backbone.preprocessing,
  });
  try {
    probe.checkTasks(dataset.tasks);
  } finally {
    probe.dispose();
    backbone.dispose();
  }
  const examples = { train: splits.raw.train.size, validation: splits.raw.validation.size };

  const run = await createRunDirectory(options.output ?? `${config.output}-compare`, {
    force: options.force,
  });
  const log = alsoLoggedTo((line) => run.log(line), reporter);
  // A comparison has no checkpoint to resume from: Ctrl-C stops it at once and, as a failure
  // does, leaves no half-written folder, only its log.
  const interrupts = discardOnInterrupt(
    run,
    (signal, kept) =>
      `graft: comparison stopped by ${signal}; its folder was removed${kept ? `, its log is in ${kept}` : ''}`,
  );
  try {
    await run.writeJson('config.json', config);
    const kinds = taskKinds(config);
    const taskNames = Object.keys(config.tasks);
    const tasks: TaskMetric[] = taskNames.map((task) => ({
      task,
      kind: kinds[task] as TaskMetric['kind'],
      metric: keyMetricName(kinds[task] as TaskMetric['kind']),
    }));
    const seeds = Array.from({ length: options.seeds }, (_, i) => config.seed + i);
    log.info(
      `backend: ${info.name} (SIMD ${info.simd ? 'on' : 'off'}, ${info.threads} thread${info.threads === 1 ? '' : 's'})`,
      { backend: info.name },
    );
    log.info(
      `data: ${dataset.size} examples (${examples.train} train / ${examples.validation} validation, every run scored on validation); ${config.epochs} epochs per run, seeds ${seeds.join(', ')}`,
      { examples },
    );

    const runner = comparisonRunner({
      config,
      dataset,
      baseDir,
      onWarning: (m) => run.log(`  note: ${m}`),
    });
    // Which row first trained each run, so a reused run is named in the table.
    const firstRow = new Map<string, string>();
    const measure = async (label: string, spec: Omit<RunSpec, 'seed'>): Promise<CompareRow> => {
      const results: RunResult[] = [];
      for (const seed of seeds) {
        const r = await runner.run({ ...spec, seed });
        results.push(r);
        const metrics = spec.tasks
          .map(
            (t) =>
              `${t} ${Number.isFinite(r.metrics[t]) ? (r.metrics[t] as number).toFixed(3) : 'n/a'}`,
          )
          .join(', ');
        log.progress(
          {
            run: label,
            seed,
            plan: r.plan,
            metrics: r.metrics,
            seconds: r.seconds,
            reused: r.reused,
          },
          `${label} [seed ${seed}]: ${r.plan}, ${r.trainExamples} train: ${metrics}${r.reused ? ` (same run as ${firstRow.get(r.key)})` : `  ${r.seconds.toFixed(1)} s`}`,
        );
        if (!firstRow.has(r.key)) firstRow.set(r.key, label);
      }
      const first = results[0] as RunResult;
      const metrics: Record<string, Stat> = {};
      for (const t of spec.tasks) {
        metrics[t] = stat(
          results.map((r) => r.metrics[t] as number),
          results.map((r) => r.sampleErrors[t] as number),
        );
      }
      const sameAs = results.every((r) => r.reused) ? firstRow.get(first.key) : undefined;
      return {
        label,
        trunk: spec.trunk,
        policy: policyLabel(spec.freeze),
        plan: first.plan,
        tasks: [...spec.tasks],
        fraction: spec.fraction,
        trainExamples: first.trainExamples,
        metrics,
        seconds: results.reduce((a, r) => a + r.seconds, 0) / results.length,
        trainableParams: first.trainableParams,
        ...(sameAs && sameAs !== label ? { sameRunsAs: sameAs } : {}),
      };
    };
    const wants = (s: StudyName) => options.studies.includes(s);

    // (a) Transfer vs scratch, smallest fraction first.
    const fractions = [...new Set(options.fractions)].sort((a, b) => a - b);
    let transfer: TransferStudy = {
      skipped: 'not asked for (--studies)',
      fractions,
      rows: [],
      differences: [],
      verdict: [],
    };
    if (wants('transfer') && config.backbone.source === 'mobilenetv2') {
      transfer.skipped =
        "the config's backbone is random-init (backbone.source: mobilenetv2), so there is no pre-trained trunk to compare; use shipped or a model.json";
    } else if (wants('transfer')) {
      log.info('study 1/3: transfer vs scratch');
      const rows: CompareRow[] = [];
      const points = [];
      for (const fraction of fractions) {
        const pre = await measure(`transfer ${percent(fraction)}`, {
          trunk: 'pretrained',
          freeze: config.freeze,
          tasks: taskNames,
          fraction,
        });
        const scratch = await measure(`scratch ${percent(fraction)}`, {
          trunk: 'scratch',
          freeze: 'all',
          tasks: taskNames,
          fraction,
        });
        rows.push(pre, scratch);
        points.push({
          fraction,
          trainExamples: pre.trainExamples,
          transfer: pre.metrics,
          scratch: scratch.metrics,
        });
      }
      const v = transferVerdict(tasks, points, options.minDelta);
      transfer = { fractions, rows, differences: v.differences, verdict: v.lines };
    }

    // (b) One multi-task network vs one network per task.
    let multiTask: MultiTaskStudy = {
      skipped: 'not asked for (--studies)',
      rows: [],
      differences: [],
      verdict: [],
    };
    if (wants('multiTask') && taskNames.length < 2) {
      multiTask.skipped = 'the config has one task';
    } else if (wants('multiTask')) {
      log.info('study 2/3: one multi-task network vs one network per task');
      const base = { trunk: 'pretrained' as const, freeze: config.freeze, fraction: 1 };
      const multi = await measure('multi-task', { ...base, tasks: taskNames });
      const singles: CompareRow[] = [];
      for (const t of taskNames) singles.push(await measure(`${t} alone`, { ...base, tasks: [t] }));
      const first = await runner.run({ ...base, tasks: taskNames, seed: config.seed });
      const v = multiTaskVerdict(
        {
          tasks,
          multi: multi.metrics,
          single: Object.fromEntries(
            singles.map((r) => [r.tasks[0] as string, r.metrics[r.tasks[0] as string] as Stat]),
          ),
          labelled: first.labelled,
          trunkTrainable: first.trunkTrainableParams,
          seconds: {
            multi: multi.seconds,
            single: singles.reduce((a, r) => a + r.seconds, 0),
          },
        },
        options.minDelta,
      );
      multiTask = { rows: [multi, ...singles], differences: v.differences, verdict: v.lines };
    }

    // (c) Freeze policies on the full training set.
    let policyStudy: PolicyStudy = {
      skipped: 'not asked for (--studies)',
      rows: [],
      best: [],
      verdict: [],
    };
    if (wants('policies') && policies.length > 0) {
      log.info('study 3/3: freeze policies');
      const rows: CompareRow[] = [];
      for (const p of policies) {
        rows.push(
          await measure(p.label, {
            trunk: 'pretrained',
            freeze: p.freeze,
            tasks: taskNames,
            fraction: 1,
          }),
        );
      }
      const v = policyVerdict(
        tasks,
        rows.map((r) => ({
          policy: r.label,
          plan: r.plan,
          metrics: r.metrics,
          seconds: r.seconds,
          trainableParams: r.trainableParams,
        })),
        options.minDelta,
      );
      policyStudy = {
        rows,
        best: v.best,
        ...(v.overall ? { overall: v.overall } : {}),
        verdict: v.lines,
      };
    }

    const seconds = (performance.now() - started) / 1000;
    const report: CompareReport = {
      title: `graft compare ${options.config}`,
      createdAt: new Date().toISOString(),
      environment: { backend: info.name, simd: info.simd, threads: info.threads },
      config: resolve(options.config),
      seeds,
      epochs: config.epochs,
      examples,
      tasks,
      transfer,
      multiTask,
      policies: policyStudy,
      verdict: [
        ...transfer.verdict,
        ...multiTask.verdict,
        ...policyStudy.verdict,
        ...noiseCaveat(tasks, seeds.length, options.minDelta),
      ],
      runsTrained: runner.trained,
      seconds,
    };
    await run.writeJson('compare.json', report);
    await run.write('report.html', await renderCompareReport(report));
    const skipped = (
      [
        ['transfer vs scratch', transfer],
        ['multi-task', multiTask],
        ['freeze policies', policyStudy],
      ] as const
    )
      .filter(([, s]) => s.skipped && !s.skipped.startsWith('not asked'))
      .map(([name, s]) => `${name}: not run, ${s.skipped}`);
    const text = [
      ...compareTables(report).map(formatTextTable),
      ...skipped,
      ...(report.verdict.length
        ? [['verdict:', ...report.verdict.map((l) => `  - ${l}`)].join('\n')]
        : []),
      `${report.runsTrained} run${report.runsTrained === 1 ? '' : 's'} trained in ${seconds.toFixed(0)} s: compare.json, report.html in ${run.path}`,
    ].join('\n\n');
    await run.finish();
    log.summary({ runDir: run.path, ...report }, text);
    return report;
  } catch (e) {
    run.log(`failed: ${(e as Error).message}`);
    // As for graft train: a failed comparison leaves no half-written folder, only its log.
    const kept = await run.discard().catch(() => undefined);
    if (kept) {
      process.stderr.write(
        `graft: the failed comparison's folder was removed; its log is in ${kept}\n`,
      );
    }
    throw e;
  } finally {
    interrupts.dispose();
  }
}

/**
 * With one seed, run-to-run noise is unmeasured: AUC and accuracy still have the validation
 * split's sampling error, R² has only --min-delta. Said once, after the verdicts.
 */
function noiseCaveat(tasks: readonly TaskMetric[], seeds: number, minDelta: number): string[] {
  if (seeds > 1) return [];
  const r2 = tasks.filter((t) => t.kind === 'regression').map((t) => t.task);
  return [
    `one seed per configuration: run-to-run noise is not measured${r2.length ? `, and ${r2.join(', ')} (R²) differences are judged against --min-delta ${minDelta} alone` : ''}; --seeds 3 measures it`,
  ];
}

function policyLabel(freeze: TrainConfig['freeze']): string {
  if (typeof freeze === 'string') return freeze;
  if (freeze.policy === 'lastBlocks') return `lastBlocks:${freeze.n}`;
  if (freeze.policy === 'gradual') return `gradual:${freeze.every}`;
  return freeze.policy;
}
