import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ClassificationReport, HistoryPoint, MultiLabelReport } from './runReport';

/**
 * Charts are Vega-Lite specs rendered to SVG strings in Node (Vega's headless SVG renderer),
 * so report.html is self-contained: no script, no canvas, no network.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function learningCurveSpec(task: string, points: HistoryPoint[]): TopLevelSpec {
  return {
    title: `${task}: loss per epoch`,
    width: 320,
    height: 180,
    data: { values: points.filter((p) => p.task === task).map((p) => ({ ...p })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
      y: { field: 'loss', type: 'quantitative', scale: { zero: false } },
      color: { field: 'split', type: 'nominal' },
    },
  };
}

export function perLabelSpec(task: MultiLabelReport): TopLevelSpec {
  const values = task.perLabel.flatMap((l) =>
    (['precision', 'recall', 'f1', 'ap'] as const).map((metric) => ({
      label: l.label,
      metric,
      value: l[metric],
    })),
  );
  return {
    title: `${task.name}: per-label metrics (mAP ${task.mAP.toFixed(3)})`,
    width: { step: 14 },
    height: 180,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'metric', type: 'nominal', axis: { title: null, labels: false } },
      y: { field: 'value', type: 'quantitative', scale: { domain: [0, 1] } },
      color: { field: 'metric', type: 'nominal' },
      column: { field: 'label', type: 'nominal', header: { title: null } },
    },
  };
}

export function confusionSpec(task: ClassificationReport): TopLevelSpec {
  const values = task.confusion.flatMap((row, t) =>
    row.map((count, p) => ({ truth: task.classes[t], predicted: task.classes[p], count })),
  );
  return {
    title: `${task.name}: confusion matrix (accuracy ${task.accuracy.toFixed(3)})`,
    width: 40 * task.classes.length,
    height: 40 * task.classes.length,
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: task.classes },
      y: { field: 'truth', type: 'nominal', sort: task.classes },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative' } } },
      {
        mark: { type: 'text', fontSize: 12 },
        encoding: { text: { field: 'count', type: 'quantitative' } },
      },
    ],
  };
}
