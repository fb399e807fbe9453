import { GraftError } from '@graft/errors';
import { isNode } from './environment';

/**
 * Reads a whole file: from disk in Node, with fetch in the browser (a URL or a path relative
 * to the page). A missing file is a GraftError naming it and, when given, the manifest row
 * and column that pointed to it.
 */
export async function readBytes(path: string, where?: string): Promise<Uint8Array> {
  if (isNode()) {
    const { readFile } = await import('node:fs/promises');
    try {
      const buffer = await readFile(path);
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (cause) {
      throw fileError(path, where, cause);
    }
  }
  let response: Response;
  try {
    response = await fetch(path);
  } catch (cause) {
    throw fileError(path, where, cause);
  }
  if (!response.ok) throw fileError(path, where, new Error(`HTTP ${response.status}`));
  return new Uint8Array(await response.arrayBuffer());
}

function fileError(path: string, where: string | undefined, cause: unknown): GraftError {
  const code = (cause as { code?: string }).code;
  const missing = code === undefined || code === 'ENOENT' || code === 'ENOTDIR';
  return new GraftError(
    missing ? 'DATASET_FILE_NOT_FOUND' : 'INVALID_ARGUMENT',
    missing
      ? `File not found: ${path}`
      : `Cannot read ${path}: ${String((cause as Error).message ?? cause)}`,
    {
      where: where ?? path,
      hint: missing
        ? 'Check the path (relative paths in a manifest are relative to the manifest).'
        : '',
      cause,
    },
  );
}
