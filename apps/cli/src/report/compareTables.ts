import type { Stat, TaskMetric } from '../pipeline/compareVerdicts';
import type { CompareReport, CompareRow } from './compareReport';

/** A study's rows as a table of strings: the printed table and report.html show the same cells. */
export interface CellTable {
  title: string;
  columns: string[];
  rows: string[][];
  /** Leading text columns (left-aligned); the rest are numbers. */
  leftAligned: number;
}

export function formatStat(s: Stat | undefined): string {
  if (!s || !Number.isFinite(s.mean)) return s ? 'n/a' : '';
  return s.n > 1 ? `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}` : s.mean.toFixed(3);
}

function rowsTable(
  title: string,
  tasks: readonly TaskMetric[],
  rows: readonly CompareRow[],
): CellTable {
  return {
    title,
    leftAligned: 2,
    columns: [
      'run',
      'plan',
      'train',
      ...tasks.map((t) => `${t.task} ${t.metric}`),
      'seconds',
      'trainable',
    ],
    rows: rows.map((r) => [
      r.sameRunsAs ? `${r.label} (= ${r.sameRunsAs})` : r.label,
      r.plan,
      String(r.trainExamples),
      ...tasks.map((t) => formatStat(r.metrics[t.task])),
      r.seconds.toFixed(1),
      r.trainableParams.toLocaleString('en'),
    ]),
  };
}

/** One table per study that ran. */
export function compareTables(report: CompareReport): CellTable[] {
  const out: CellTable[] = [];
  if (!report.transfer.skipped) {
    out.push(rowsTable('Transfer vs scratch', report.tasks, report.transfer.rows));
  }
  if (!report.multiTask.skipped) {
    out.push(rowsTable('Multi-task vs one network per task', report.tasks, report.multiTask.rows));
  }
  if (!report.policies.skipped) {
    out.push(rowsTable('Freeze policies', report.tasks, report.policies.rows));
  }
  return out;
}

/** A table as aligned text for the terminal. */
export function formatTextTable(table: CellTable): string {
  const widths = table.columns.map((c, i) =>
    Math.max(c.length, ...table.rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) =>
        i < table.leftAligned ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number),
      )
      .join('  ')
      .trimEnd();
  return [
    table.title,
    line(table.columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...table.rows.map(line),
  ].join('\n');
}
