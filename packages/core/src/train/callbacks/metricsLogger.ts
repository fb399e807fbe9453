import type { EpochLogs } from '../trainingLogs';
import type { TrainerCallback } from './trainerCallback';

/**
 * One flat row per epoch: `epoch`, `loss`, `<task>.loss`, `val.loss`, `val.<metric>`...
 *
 * @example
 * ```ts
 * const logger = metricsLogger({ write: (row: MetricsRow) => console.log(row.epoch, row['val.loss']) });
 * ```
 */
export type MetricsRow = Record<string, number>;

/**
 * A callback that keeps one flat row of numbers per epoch, and writes them as CSV.
 *
 * @example
 * ```ts
 * const logger: MetricsLogger = metricsLogger();
 * await trainer.fit(train, { epochs: 5, validation, callbacks: [logger] });
 * await writeFile('metrics.csv', logger.toCSV());
 * ```
 */
export interface MetricsLogger extends TrainerCallback {
  readonly rows: readonly MetricsRow[];
  /** The rows as CSV, columns in first-seen order. */
  toCSV(): string;
}

/**
 * Records every epoch's training and validation numbers as flat rows (for a table, a chart
 * or a CSV file); `write` receives each row as it is made.
 *
 * @example
 * ```ts
 * const logger = metricsLogger();
 * await trainer.fit(train, { epochs: 3, callbacks: [logger] });
 * logger.rows.length; // 3
 * ```
 */
export function metricsLogger(options: { write?: (row: MetricsRow) => void } = {}): MetricsLogger {
  const rows: MetricsRow[] = [];
  return {
    rows,
    onTrainBegin() {
      rows.length = 0;
    },
    onEpochEnd(logs) {
      const row = flatten(logs);
      rows.push(row);
      options.write?.(row);
    },
    toCSV() {
      const columns: string[] = [];
      for (const row of rows)
        for (const k of Object.keys(row)) if (!columns.includes(k)) columns.push(k);
      const lines = rows.map((r) => columns.map((c) => (c in r ? String(r[c]) : '')).join(','));
      return [columns.join(','), ...lines].join('\n');
    },
  };
}

function flatten(logs: EpochLogs): MetricsRow {
  const row: MetricsRow = { epoch: logs.epoch, loss: logs.loss, learningRate: logs.learningRate };
  for (const [t, l] of Object.entries(logs.taskLosses)) row[`${t}.loss`] = l;
  for (const [t, w] of Object.entries(logs.taskWeights)) row[`${t}.weight`] = w;
  const val = logs.validation;
  if (val) {
    row['val.loss'] = val.loss;
    for (const [t, l] of Object.entries(val.taskLosses)) row[`val.${t}.loss`] = l;
    for (const [m, v] of Object.entries(val.metrics)) row[`val.${m}`] = v;
  }
  row.seconds = logs.seconds;
  return row;
}
