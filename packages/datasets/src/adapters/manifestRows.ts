import { GraftError } from '@graft/errors';
import type { parse as CsvParse } from 'csv-parse/sync';

/** One data row of a manifest: its line number in the file and its cells by column. */
export interface ManifestRow {
  line: number;
  cells: Readonly<Record<string, unknown>>;
}

export interface ManifestTable {
  columns: readonly string[];
  rows: ManifestRow[];
}

/**
 * Parses a CSV manifest (first line = header; csv-parse handles quoting). A row with a
 * different number of fields from the header is a GraftError naming the file, the line, and
 * the columns it lacks or the fields it has too many; with `onRagged` the caller can record it
 * and go on instead.
 */
export function parseCsvManifest(
  parse: typeof CsvParse,
  text: string,
  file: string,
  delimiter: string,
  onRagged?: (error: GraftError) => void,
): ManifestTable {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      delimiter,
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
      bom: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (cause) {
    const line = (cause as { lines?: number }).lines;
    throw new GraftError(
      'DATASET_FORMAT_INVALID',
      `Cannot parse CSV: ${(cause as Error).message}`,
      {
        where: line === undefined ? file : `${file} row ${line}`,
        cause,
      },
    );
  }
  const [header, ...data] = records;
  if (!header) throw new GraftError('DATASET_EMPTY', 'The manifest is empty', { where: file });
  const columns = header.record.map((c) => c.trim());
  const rows: ManifestRow[] = [];
  for (const { record, info } of data) {
    if (record.length !== columns.length) {
      const what =
        record.length < columns.length
          ? `missing column${columns.length - record.length === 1 ? '' : 's'} ${columns
              .slice(record.length)
              .map((c) => `"${c}"`)
              .join(', ')}`
          : `${record.length - columns.length} field(s) after column "${columns[columns.length - 1]}"`;
      const error = new GraftError(
        'DATASET_ROW_RAGGED',
        `Row has ${record.length} fields but the header has ${columns.length}: ${what}`,
        {
          where: `${file} row ${info.lines}, column "${columns[Math.min(record.length, columns.length - 1)]}"`,
          hint: 'Every row needs one field per header column (leave a field empty for a missing label).',
        },
      );
      if (!onRagged) throw error;
      onRagged(error);
      continue;
    }
    const cells: Record<string, unknown> = {};
    columns.forEach((c, k) => {
      cells[c] = record[k];
    });
    rows.push({ line: info.lines, cells });
  }
  return { columns, rows };
}

/** Parses a JSONL manifest: one JSON object per line; columns are the union of keys. */
export function parseJsonlManifest(text: string, file: string): ManifestTable {
  const columns = new Set<string>();
  const rows: ManifestRow[] = [];
  text.split(/\r?\n/).forEach((raw, k) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      throw new GraftError('DATASET_FORMAT_INVALID', 'Line is not valid JSON', {
        where: `${file} row ${k + 1}`,
        cause,
      });
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new GraftError('DATASET_FORMAT_INVALID', 'Line is not a JSON object', {
        where: `${file} row ${k + 1}`,
      });
    }
    for (const key of Object.keys(value)) columns.add(key);
    rows.push({ line: k + 1, cells: value as Record<string, unknown> });
  });
  return { columns: [...columns], rows };
}
