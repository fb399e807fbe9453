import { GraftError } from '@graft/errors';
import type { Target } from '../dataset';
import { isNode } from '../image/environment';
import { readBytes } from '../image/readBytes';
import type { TaskSpec, TaskSpecs } from '../taskSpec';
import { loadCsvParser } from './csvParser';
import { type FileDataset, type ImageRecord, imageRecordsDataset } from './imageRecords';
import {
  type ManifestRow,
  type ManifestTable,
  parseCsvManifest,
  parseJsonlManifest,
} from './manifestRows';
import { emptySkipReport, orSkip, recordSkip } from './skipReport';

/**
 * How a task's labels are laid out in a manifest's columns.
 *
 * @example
 * ```ts
 * const presence: ManifestTask = { kind: 'multiLabel', columns: ['car', 'pedestrian'] };
 * const carCount: ManifestTask = { kind: 'regression', column: 'cars' };
 * const data = await manifest('labels.csv', { tasks: { presence, carCount } });
 * ```
 */
export type ManifestTask =
  /** One 0/1 column per label; labels are named after the columns unless `labels` is given. */
  | { kind: 'multiLabel'; columns: readonly string[]; labels?: readonly string[] }
  /** One column holding a class name. Without `classes`, the classes are the values seen, sorted. */
  | { kind: 'classification'; column: string; classes?: readonly string[] }
  /** One column per output, each a number. */
  | { kind: 'regression'; column: string }
  | { kind: 'regression'; columns: readonly string[] };

/**
 * Options of {@link manifest}: each task's columns, the image and id columns, the format,
 * which cell values mean "missing", where images are, and whether bad rows are skipped.
 *
 * @example
 * ```ts
 * const options: ManifestOptions = {
 *   tasks: { lightColour: { kind: 'classification', column: 'light' } },
 *   imageColumn: 'file',
 *   missing: ['', '?'],
 *   skipInvalid: true,
 * };
 * ```
 */
export interface ManifestOptions {
  /** Task name -> its columns. Key order is task order. */
  tasks: Readonly<Record<string, ManifestTask>>;
  /** Column with the image path (relative to `baseDir`) or URL. Default `'image'`. */
  imageColumn?: string;
  /** Column with the example id. Default: the image path as written. */
  idColumn?: string;
  /** `'csv'` or `'jsonl'`. Default: from the extension (.jsonl, .ndjson -> jsonl, else csv). */
  format?: 'csv' | 'jsonl';
  /** CSV field delimiter. Default `','`. */
  delimiter?: string;
  /** Cell values that mean "label missing". Default `['', '?', 'NA', 'null']` (JSON null too). */
  missing?: readonly string[];
  /** Folder (or URL) image paths are relative to. Default: the manifest's own folder. */
  baseDir?: string;
  /** 3 for RGB (default), 1 for grey. */
  channels?: 1 | 3;
  /**
   * Leave out bad rows instead of failing: ragged rows, unknown label values, missing and
   * corrupt images (every image is decoded once up front to find these). The dataset's
   * `skipped` says how many and why.
   */
  skipInvalid?: boolean;
}

/**
 * A dataset from a CSV or JSONL manifest: an image path column and any number of label
 * columns, each task declared as multi-label, classification or regression. Labels are read
 * and checked when the manifest loads; images are decoded when examples are loaded, so
 * memory stays bounded. Problems are GraftErrors naming the file, row and column.
 *
 * @example
 * ```ts
 * // labels.csv: image,car,pedestrian,light,cars
 * //             a.png,1,0,red,2
 * //             b.png,?,1,,?       (missing labels: "?" or empty)
 * const data = await manifest('labels.csv', {
 *   tasks: {
 *     presence: { kind: 'multiLabel', columns: ['car', 'pedestrian'] },
 *     lightColour: { kind: 'classification', column: 'light', classes: ['red', 'yellow', 'green'] },
 *     carCount: { kind: 'regression', column: 'cars' },
 *   },
 * });
 * ```
 */
export async function manifest(file: string, options: ManifestOptions): Promise<FileDataset> {
  const skipInvalid = options.skipInvalid ?? false;
  const report = emptySkipReport();
  const format = options.format ?? (/\.(jsonl|ndjson)$/i.test(file) ? 'jsonl' : 'csv');
  const text = new TextDecoder().decode(await readBytes(file));
  const table: ManifestTable =
    format === 'jsonl'
      ? parseJsonlManifest(text, file)
      : parseCsvManifest(
          await loadCsvParser(),
          text,
          file,
          options.delimiter ?? ',',
          skipInvalid ? (e) => recordSkip(report, e) : undefined,
        );
  if (table.rows.length === 0 && report.skipped === 0) {
    throw new GraftError('DATASET_EMPTY', 'The manifest has no data rows', {
      where: file,
      hint: 'Add one row per example under the header.',
    });
  }
  const imageColumn = options.imageColumn ?? 'image';
  const missing = new Set(options.missing ?? ['', '?', 'NA', 'null']);
  const requireColumn = (column: string, role: string): void => {
    if (!table.columns.includes(column)) {
      throw new GraftError(
        'DATASET_COLUMN_NOT_FOUND',
        `Column "${column}" (${role}) does not exist`,
        {
          where: `${file}, column "${column}"`,
          hint: `Columns: ${table.columns.map((c) => `"${c}"`).join(', ')}.`,
        },
      );
    }
  };
  requireColumn(imageColumn, 'image paths');
  if (options.idColumn) requireColumn(options.idColumn, 'ids');
  for (const [task, t] of Object.entries(options.tasks)) {
    for (const c of taskColumns(t)) requireColumn(c, `task "${task}"`);
  }

  const isMissing = (v: unknown): boolean =>
    v === null || v === undefined || (typeof v === 'string' && missing.has(v.trim()));
  const specs = taskSpecs(options.tasks, table.rows, isMissing);
  const resolve = await pathResolver(file, options.baseDir);

  const records: ImageRecord[] = [];
  for (const row of table.rows) {
    const where = (column: string) => `${file} row ${row.line}, column "${column}"`;
    const record = await orSkip(skipInvalid, report, async (): Promise<ImageRecord> => {
      const targets: Record<string, Target> = {};
      for (const [task, t] of Object.entries(options.tasks)) {
        targets[task] = readTarget(task, t, specs[task] as TaskSpec, row, where, isMissing);
      }
      const written = row.cells[imageColumn];
      if (isMissing(written) || typeof written !== 'string') {
        throw new GraftError('DATASET_FILE_NOT_FOUND', 'No image path', {
          where: where(imageColumn),
        });
      }
      const path = resolve(written.trim());
      const imageWhere = `${path}, ${where(imageColumn)}`;
      await assertExists(path, where(imageColumn));
      const id = options.idColumn ? String(row.cells[options.idColumn]) : written.trim();
      return { path, where: imageWhere, labels: { id, targets } };
    });
    if (record) records.push(record);
  }
  const dataset = await imageRecordsDataset(records, {
    tasks: specs,
    channels: options.channels ?? 3,
    skipInvalid,
    report,
    description: `manifest ${file}`,
  });
  if (dataset.size === 0) {
    throw new GraftError('DATASET_EMPTY', `Every row was skipped (${report.skipped})`, {
      where: file,
      hint: `First problem: ${report.examples[0]?.reason ?? 'unknown'}`,
    });
  }
  return dataset;
}

function taskColumns(t: ManifestTask): readonly string[] {
  return 'columns' in t ? t.columns : [t.column];
}

/** The dataset's task specs; classification classes are inferred when not declared. */
function taskSpecs(
  tasks: Readonly<Record<string, ManifestTask>>,
  rows: readonly ManifestRow[],
  isMissing: (v: unknown) => boolean,
): TaskSpecs {
  const specs: Record<string, TaskSpec> = {};
  for (const [task, t] of Object.entries(tasks)) {
    if (t.kind === 'multiLabel') {
      if (t.labels && t.labels.length !== t.columns.length) {
        throw new GraftError(
          'INVALID_ARGUMENT',
          `${t.labels.length} label names for ${t.columns.length} columns`,
          {
            where: `task "${task}"`,
          },
        );
      }
      specs[task] = { kind: 'multiLabel', labels: t.labels ?? t.columns };
    } else if (t.kind === 'classification') {
      const seen = new Set<string>();
      for (const r of rows) {
        const v = r.cells[t.column];
        if (!isMissing(v)) seen.add(String(v).trim());
      }
      specs[task] = { kind: 'classification', classes: t.classes ?? [...seen].sort() };
    } else {
      specs[task] = { kind: 'regression', outputs: taskColumns(t).length };
    }
  }
  return specs;
}

function readTarget(
  task: string,
  t: ManifestTask,
  spec: TaskSpec,
  row: ManifestRow,
  where: (column: string) => string,
  isMissing: (v: unknown) => boolean,
): Target {
  const unknown = (column: string, value: unknown, expected: string): GraftError =>
    new GraftError(
      'DATASET_LABEL_UNKNOWN',
      `Unknown label value ${JSON.stringify(value)} for task "${task}"`,
      {
        where: where(column),
        hint: `Expected ${expected}, or a missing marker.`,
      },
    );
  if (t.kind === 'classification' && spec.kind === 'classification') {
    const v = row.cells[t.column];
    if (isMissing(v)) return null;
    const k = spec.classes.indexOf(String(v).trim());
    if (k < 0) throw unknown(t.column, v, `one of ${spec.classes.join(', ')}`);
    return k;
  }
  const values = taskColumns(t).map((column) => {
    const v = row.cells[column];
    if (isMissing(v)) return null;
    if (t.kind === 'multiLabel') {
      const s = typeof v === 'string' ? v.trim() : v;
      if (s === '1' || s === 1 || s === true || s === 'true') return 1;
      if (s === '0' || s === 0 || s === false || s === 'false') return 0;
      throw unknown(column, v, '0 or 1');
    }
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : Number.NaN;
    if (!Number.isFinite(n)) throw unknown(column, v, 'a number');
    return n;
  });
  if (values.every((v) => v === null)) return null;
  return t.kind === 'regression' && values.length === 1 ? (values[0] as number) : values;
}

async function pathResolver(file: string, baseDir?: string): Promise<(p: string) => string> {
  const isUrl = (p: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(p);
  if (isNode() && !isUrl(baseDir ?? file)) {
    const path = await import('node:path');
    const base = baseDir ?? path.dirname(file);
    return (p) => path.resolve(base, p);
  }
  const base = new URL(
    baseDir ?? file,
    (globalThis as { location?: { href: string } }).location?.href,
  );
  return (p) => new URL(p, base).href;
}

async function assertExists(path: string, where: string): Promise<void> {
  if (!isNode() || /^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return; // URLs are checked on load
  const { stat } = await import('node:fs/promises');
  try {
    await stat(path);
  } catch (cause) {
    throw new GraftError('DATASET_FILE_NOT_FOUND', `File not found: ${path}`, {
      where,
      hint: 'Image paths are relative to the manifest (or to baseDir).',
      cause,
    });
  }
}
