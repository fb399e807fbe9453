import { keyMetricName, type Stat, stat, type TaskMetric } from '../pipeline/compareVerdicts';
import type { CompareReport, CompareRow } from './compareReport';

/**
 * A small but complete `graft compare` report (made-up numbers, verdicts included), for tests
 * and for previewing the page's layout; a real one comes from `graft compare`.
 */
export function sampleCompareReport(): CompareReport {
  const tasks: TaskMetric[] = (
    [
      ['presence', 'multiLabel'],
      ['lightColour', 'classification'],
      ['carCount', 'regression'],
    ] as const
  ).map(([task, kind]) => ({ task, kind, metric: keyMetricName(kind) }));
  const metrics = (p: number, l: number, c: number): Record<string, Stat> => ({
    presence: stat([p, p + 0.01]),
    lightColour: stat([l, l - 0.02]),
    carCount: stat([c, c + 0.03]),
  });
  const row = (
    label: string,
    trunk: CompareRow['trunk'],
    plan: string,
    fraction: number,
    m: Record<string, Stat>,
    seconds: number,
    trainableParams: number,
    taskNames = tasks.map((t) => t.task),
  ): CompareRow => ({
    label,
    trunk,
    policy: plan.startsWith('ruleOfThumb') ? 'ruleOfThumb' : plan,
    plan,
    tasks: taskNames,
    fraction,
    trainExamples: Math.round(fraction * 800),
    metrics: Object.fromEntries(taskNames.map((t) => [t, m[t] as Stat])),
    seconds,
    trainableParams,
  });
  const rule = 'ruleOfThumb -> lastBlocks(2)';
  const transferRows = [0.25, 0.5, 1].flatMap((f) => [
    row(
      `transfer ${f * 100}%`,
      'pretrained',
      rule,
      f,
      metrics(0.7 + 0.1 * f, 0.5 + 0.2 * f, 0.3 + 0.3 * f),
      20 * f,
      120_000,
    ),
    row(
      `scratch ${f * 100}%`,
      'scratch',
      'all',
      f,
      metrics(0.55 + 0.2 * f, 0.4 + 0.25 * f, Number.NaN),
      45 * f,
      410_000,
    ),
  ]);
  const full = metrics(0.8, 0.7, 0.6);
  const report: CompareReport = {
    title: 'graft compare: sample',
    createdAt: '2026-01-01T00:00:00.000Z',
    environment: { backend: 'wasm', simd: true, threads: 1 },
    config: '/data/graft.yaml',
    seeds: [1, 2],
    epochs: 6,
    examples: { train: 800, validation: 200 },
    tasks,
    transfer: {
      fractions: [0.25, 0.5, 1],
      rows: transferRows,
      differences: [],
      verdict: [
        'transfer helps presence: AUC +0.125 at 25% of the data (200 examples), +0.050 at 100% of the data (800 examples)',
      ],
    },
    multiTask: {
      rows: [
        {
          ...row('multi-task', 'pretrained', rule, 1, full, 20, 120_000),
          sameRunsAs: 'transfer 100%',
        },
        ...tasks.map((t, i) =>
          row(
            `${t.task} alone`,
            'pretrained',
            rule,
            1,
            metrics(0.78, 0.72, 0.5 + i * 0.05),
            14,
            100_000,
            [t.task],
          ),
        ),
      ],
      differences: [],
      verdict: [
        'multi-task hurts lightColour by 0.020 accuracy: the trunk may be too small (110,000 trainable trunk parameters) or the tasks unrelated',
      ],
    },
    policies: {
      rows: [
        row('headsOnly', 'pretrained', 'headsOnly', 1, metrics(0.74, 0.6, 0.4), 8, 14_000),
        row('lastBlocks:2', 'pretrained', 'lastBlocks(2)', 1, full, 20, 120_000),
        row('all', 'pretrained', 'all', 1, metrics(0.79, 0.71, 0.62), 44, 410_000),
        {
          ...row('ruleOfThumb', 'pretrained', rule, 1, full, 20, 120_000),
          sameRunsAs: 'lastBlocks:2',
        },
      ],
      best: [],
      overall: 'lastBlocks:2',
      verdict: ['best over all tasks (mean rank 1.3): lastBlocks:2'],
    },
    verdict: [],
    runsTrained: 16,
    seconds: 600,
  };
  report.verdict = [
    ...report.transfer.verdict,
    ...report.multiTask.verdict,
    ...report.policies.verdict,
  ];
  return report;
}
