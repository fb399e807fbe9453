/**
 * Everything report.html shows, as plain data. Commands fill it from the packages' results;
 * the renderer knows nothing about tensors, so the report can be re-rendered from
 * metrics.json alone.
 */
export interface RunReport {
  title: string;
  createdAt: string;
  /** e.g. { backend: 'wasm', simd: true, threads: 1, graft: '0.1.0' }. */
  environment: Record<string, string | number | boolean>;
  /** One point per epoch, per split, per task (`task: 'total'` for the summed loss). */
  history: HistoryPoint[];
  tasks: TaskReport[];
  /** The freeze plan's explain() rows. */
  freezePlan?: FreezeRow[];
  /** Side-by-side runs (`graft compare`): one row per run, any numeric columns. */
  comparison?: ComparisonTable;
  /** Free-form notes printed at the top (warnings, the rule-of-thumb rationale). */
  notes?: string[];
}

export interface HistoryPoint {
  epoch: number;
  split: 'train' | 'validation';
  task: string;
  loss: number;
  /** The task's key metric (mAP, accuracy, R²) when computed. */
  metric?: number;
}

export type TaskReport = MultiLabelReport | ClassificationReport | RegressionReport;

export interface MultiLabelReport {
  kind: 'multiLabel';
  name: string;
  perLabel: {
    label: string;
    precision: number;
    recall: number;
    f1: number;
    auc: number;
    ap: number;
    threshold: number;
  }[];
  mAP: number;
  meanF1: number;
}

export interface ClassificationReport {
  kind: 'classification';
  name: string;
  classes: string[];
  accuracy: number;
  macroF1: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
}

export interface RegressionReport {
  kind: 'regression';
  name: string;
  mae: number;
  rmse: number;
  r2: number;
}

export interface FreezeRow {
  block: string;
  params: number;
  trainable: boolean;
  lrScale: number;
  reason: string;
}

export interface ComparisonTable {
  title: string;
  /** Column names in order; the first is the row label. */
  columns: string[];
  rows: (string | number)[][];
}
