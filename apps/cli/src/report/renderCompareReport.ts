import { renderSvg } from './charts';
import { multiTaskSpec, policySpec, transferSpec } from './compareCharts';
import type { CompareReport } from './compareReport';
import { type CellTable, compareTables } from './compareTables';

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

function htmlTable(table: CellTable): string {
  const head = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = table.rows
    .map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(v)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

const list = (lines: readonly string[]) =>
  lines.length
    ? `<ul class="verdict">${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`
    : '';

/**
 * report.html of `graft compare`: verdicts, one chart and one table per study. Like the train
 * report it is one self-contained page (inline CSS and SVG, no scripts, no external
 * resources) that opens offline.
 */
export async function renderCompareReport(report: CompareReport): Promise<string> {
  const tables = new Map(compareTables(report).map((t) => [t.title, t]));
  const sections: string[] = [];
  const study = async (
    heading: string,
    tableTitle: string,
    s: { skipped?: string; rows: unknown[]; verdict: string[] },
    chart: () => Parameters<typeof renderSvg>[0],
  ) => {
    if (s.skipped) {
      sections.push(
        `<h2>${escapeHtml(heading)}</h2><p class="skipped">Not run: ${escapeHtml(s.skipped)}</p>`,
      );
      return;
    }
    const table = tables.get(tableTitle);
    sections.push(
      `<h2>${escapeHtml(heading)}</h2>${list(s.verdict)}<figure>${await renderSvg(chart())}</figure>${table ? htmlTable(table) : ''}`,
    );
  };
  await study('Does transfer help here?', 'Transfer vs scratch', report.transfer, () =>
    transferSpec(report.tasks, report.transfer.rows),
  );
  await study(
    'Does multi-task help, or hurt?',
    'Multi-task vs one network per task',
    report.multiTask,
    () => multiTaskSpec(report.tasks, report.multiTask.rows),
  );
  await study('Which freeze policy?', 'Freeze policies', report.policies, () =>
    policySpec(report.tasks, report.policies.rows),
  );
  const env = Object.entries({
    ...report.environment,
    seeds: report.seeds.join(', '),
    epochs: report.epochs,
    'runs trained': report.runsTrained,
  })
    .map(([k, v]) => `${escapeHtml(k)}: ${escapeHtml(String(v))}`)
    .join(' · ');
  const metrics = report.tasks.map((t) => `${t.task}: ${t.metric}`).join(', ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(report.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:right}
th{background:#f5f5f5}td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}
figure{margin:.5rem 0;overflow-x:auto}.meta{color:#666}.verdict li{margin:.2rem 0}.skipped{color:#8a4b00}
</style></head><body>
<h1>${escapeHtml(report.title)}</h1>
<p class="meta">${escapeHtml(report.createdAt)} · ${env}</p>
<p class="meta">Every run is scored on the same validation split (${report.examples.validation} examples; the training split has ${report.examples.train}). Metrics: ${escapeHtml(metrics)}; higher is better.</p>
${sections.join('\n')}
</body></html>
`;
}
