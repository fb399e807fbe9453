import { isNode } from '../image/environment';
import { importNodeOnly } from '../image/importNodeOnly';

type CsvSync = typeof import('csv-parse/sync');

/**
 * csv-parse's parser for this platform. Its Node build uses Node's Buffer when it loads, so
 * the browser gets the package's own browser build; both are imported only when a CSV
 * manifest is read.
 */
export async function loadCsvParser(): Promise<CsvSync['parse']> {
  if (isNode()) return (await importNodeOnly<CsvSync>('csv-parse/sync')).parse;
  return (await import('csv-parse/browser/esm/sync')).parse as CsvSync['parse'];
}
