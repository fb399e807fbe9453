import type { Difference, PolicyVerdict, Stat, TaskMetric } from '../pipeline/compareVerdicts';

/**
 * Everything `graft compare` measured and concluded, as plain data: compare.json holds it,
 * report.html and the printed tables are rendered from it alone. A metric undefined on the
 * validation split (an AUC with one class present, say) is NaN here and `null` in the JSON.
 */
export interface CompareReport {
  title: string;
  createdAt: string;
  environment: Record<string, string | number | boolean>;
  /** Absolute path of the config compared. */
  config: string;
  seeds: number[];
  epochs: number;
  /** Examples in the training split at fraction 1, and in the validation split every run is scored on. */
  examples: { train: number; validation: number };
  /** The key metric of each task. */
  tasks: TaskMetric[];
  transfer: TransferStudy;
  multiTask: MultiTaskStudy;
  policies: PolicyStudy;
  /** Every study's verdict lines, in order. */
  verdict: string[];
  /** Runs actually trained (identical runs are trained once and reused). */
  runsTrained: number;
  seconds: number;
}

/** One configuration of a study, its metrics over seeds. */
export interface CompareRow {
  label: string;
  trunk: 'pretrained' | 'scratch';
  /** The freeze policy asked for, and the plan it produced. */
  policy: string;
  plan: string;
  tasks: string[];
  fraction: number;
  trainExamples: number;
  /** Per task of the row: the key metric on the validation split, over seeds. */
  metrics: Record<string, Stat>;
  /** Mean wall time of one run (training + validation pass). */
  seconds: number;
  trainableParams: number;
  /** Set when this row's runs were the very runs of an earlier row (same plan, data, seed). */
  sameRunsAs?: string;
}

interface StudyBase {
  /** Why the study did not run (then rows and verdict are empty). */
  skipped?: string;
  rows: CompareRow[];
  verdict: string[];
}

export interface TransferStudy extends StudyBase {
  fractions: number[];
  differences: (Difference & { fraction: number })[];
}

export interface MultiTaskStudy extends StudyBase {
  differences: Difference[];
}

export interface PolicyStudy extends StudyBase {
  best: PolicyVerdict['best'];
  overall?: string;
}
