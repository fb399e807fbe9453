import { confusionSpec, learningCurveSpec, perLabelSpec, renderSvg } from './charts';
import type { FreezeRow, RunReport, TaskReport } from './runReport';

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(4));

function table(columns: string[], rows: (string | number)[][]): string {
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r.map((v) => `<td>${escapeHtml(typeof v === 'number' ? fmt(v) : v)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function taskTable(task: TaskReport): string {
  switch (task.kind) {
    case 'multiLabel':
      return table(
        ['label', 'precision', 'recall', 'F1', 'ROC-AUC', 'AP', 'threshold'],
        task.perLabel.map((l) => [l.label, l.precision, l.recall, l.f1, l.auc, l.ap, l.threshold]),
      );
    case 'classification':
      return table(['accuracy', 'macro-F1'], [[task.accuracy, task.macroF1]]);
    case 'regression':
      return table(['MAE', 'RMSE', 'R²'], [[task.mae, task.rmse, task.r2]]);
  }
}

function freezeTable(rows: FreezeRow[]): string {
  return table(
    ['block', 'parameters', 'trainable', 'lr scale', 'why'],
    rows.map((r) => [r.block, r.params, r.trainable ? 'yes' : 'no', r.lrScale, r.reason]),
  );
}

/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts, no external
 * resources) that opens offline and prints well.
 */
export async function renderReport(report: RunReport): Promise<string> {
  const sections: string[] = [];
  if (report.notes?.length) {
    sections.push(
      `<ul class="notes">${report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`,
    );
  }
  const curveTasks = [...new Set(report.history.map((h) => h.task))];
  if (curveTasks.length > 0) {
    const svgs = await Promise.all(
      curveTasks.map((t) => renderSvg(learningCurveSpec(t, report.history))),
    );
    sections.push(
      `<h2>Learning curves</h2><div class="charts">${svgs.map((s) => `<figure>${s}</figure>`).join('')}</div>`,
    );
  }
  for (const task of report.tasks) {
    const chart =
      task.kind === 'multiLabel'
        ? await renderSvg(perLabelSpec(task))
        : task.kind === 'classification'
          ? await renderSvg(confusionSpec(task))
          : '';
    sections.push(
      `<h2>Task: ${escapeHtml(task.name)} <small>(${task.kind})</small></h2>${taskTable(task)}${chart ? `<figure>${chart}</figure>` : ''}`,
    );
  }
  if (report.freezePlan) sections.push(`<h2>Freeze plan</h2>${freezeTable(report.freezePlan)}`);
  if (report.comparison) {
    sections.push(
      `<h2>${escapeHtml(report.comparison.title)}</h2>${table(report.comparison.columns, report.comparison.rows)}`,
    );
  }
  const env = Object.entries(report.environment)
    .map(([k, v]) => `${escapeHtml(k)}: ${escapeHtml(String(v))}`)
    .join(' · ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(report.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}small{color:#666;font-weight:normal}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:right}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:.5rem 0}.meta{color:#666}.notes li{color:#8a4b00}
</style></head><body>
<h1>${escapeHtml(report.title)}</h1>
<p class="meta">${escapeHtml(report.createdAt)} · ${env}</p>
${sections.join('\n')}
</body></html>
`;
}
