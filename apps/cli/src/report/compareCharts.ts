import type { TopLevelSpec } from 'vega-lite';
import type { TaskMetric } from '../pipeline/compareVerdicts';
import type { CompareRow } from './compareReport';

/**
 * `graft compare`'s charts, as Vega-Lite specs (rendered to inline SVG by `renderSvg`). One
 * panel per task, each on its own y scale: an AUC, an accuracy and an R² do not share one.
 * Points whose metric is undefined on the validation split are left out, not drawn as 0.
 * With several seeds a rule spans mean ± one standard deviation over them.
 */

interface Point {
  task: string;
  value: number;
  low: number;
  high: number;
  [k: string]: string | number;
}

/** Panel titles in the config's task order (Vega-Lite would sort them alphabetically). */
const panels = (tasks: readonly TaskMetric[]) => tasks.map((t) => `${t.task} (${t.metric})`);

function points(
  tasks: readonly TaskMetric[],
  rows: readonly CompareRow[],
  fields: (row: CompareRow) => Record<string, string | number>,
): Point[] {
  const out: Point[] = [];
  for (const row of rows) {
    for (const t of tasks) {
      const s = row.metrics[t.task];
      if (!s || !Number.isFinite(s.mean)) continue;
      out.push({
        task: `${t.task} (${t.metric})`,
        value: s.mean,
        low: s.mean - s.sd,
        high: s.mean + s.sd,
        ...fields(row),
      });
    }
  }
  return out;
}

/** Mean ± one standard deviation over seeds (zero length with one seed). */
const spread = {
  mark: { type: 'rule', strokeWidth: 1.5 },
  encoding: {
    y: { field: 'low', type: 'quantitative' },
    y2: { field: 'high' },
  },
} as const;

/** Transfer vs scratch: the key metric against the fraction of the training set. */
export function transferSpec(
  tasks: readonly TaskMetric[],
  rows: readonly CompareRow[],
): TopLevelSpec {
  return {
    title: 'Transfer vs training from scratch, by training-set size',
    data: {
      values: points(tasks, rows, (r) => ({
        trunk: r.trunk === 'pretrained' ? 'transfer' : 'scratch',
        examples: r.trainExamples,
      })),
    },
    facet: {
      column: { field: 'task', type: 'nominal', header: { title: null }, sort: panels(tasks) },
    },
    spec: {
      width: 220,
      height: 170,
      encoding: {
        x: { field: 'examples', type: 'quantitative', title: 'training examples' },
        color: { field: 'trunk', type: 'nominal', title: null },
      },
      layer: [
        {
          mark: { type: 'line', point: true },
          encoding: {
            y: {
              field: 'value',
              type: 'quantitative',
              scale: { zero: false },
              title: 'validation',
            },
          },
        },
        spread,
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
}

/** One multi-task network vs one network per task: each task's metric side by side. */
export function multiTaskSpec(
  tasks: readonly TaskMetric[],
  rows: readonly CompareRow[],
): TopLevelSpec {
  return {
    title: 'One multi-task network vs one network per task',
    data: {
      values: points(tasks, rows, (r) => ({
        network: r.tasks.length > 1 ? 'multi-task' : 'single-task',
      })),
    },
    facet: {
      column: { field: 'task', type: 'nominal', header: { title: null }, sort: panels(tasks) },
    },
    spec: {
      width: { step: 70 },
      height: 170,
      encoding: {
        x: {
          field: 'network',
          type: 'nominal',
          title: null,
          sort: ['single-task', 'multi-task'],
          axis: { labelAngle: 0 },
        },
        color: { field: 'network', type: 'nominal', legend: null },
      },
      layer: [
        {
          mark: 'bar',
          encoding: { y: { field: 'value', type: 'quantitative', title: 'validation' } },
        },
        { ...spread, encoding: { ...spread.encoding, color: { value: '#333' } } },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
}

/** Freeze policies side by side: each task's metric per policy, and the wall time per run. */
export function policySpec(
  tasks: readonly TaskMetric[],
  rows: readonly CompareRow[],
): TopLevelSpec {
  const order = rows.map((r) => r.label);
  const values: Point[] = [
    ...points(tasks, rows, (r) => ({ policy: r.label })),
    ...rows.map((r) => ({
      task: 'wall time (s)',
      value: r.seconds,
      low: r.seconds,
      high: r.seconds,
      policy: r.label,
    })),
  ];
  return {
    title: 'Freeze policies side by side (full training set)',
    data: { values },
    facet: {
      column: {
        field: 'task',
        type: 'nominal',
        header: { title: null },
        sort: [...panels(tasks), 'wall time (s)'],
      },
    },
    spec: {
      width: { step: 24 },
      height: 170,
      encoding: {
        x: { field: 'policy', type: 'nominal', title: null, sort: order },
        color: { field: 'policy', type: 'nominal', legend: null, sort: order },
      },
      layer: [
        { mark: 'bar', encoding: { y: { field: 'value', type: 'quantitative', title: null } } },
        { ...spread, encoding: { ...spread.encoding, color: { value: '#333' } } },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
}
