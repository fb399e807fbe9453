import { GraftError } from '@graft/errors';
import { isNode } from '../image/environment';
import { readBytes } from '../image/readBytes';

/** Random-access bytes of one file, read on demand. */
export interface ByteSource {
  readonly path: string;
  readonly byteLength: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

const isGzip = (b: Uint8Array): boolean => b[0] === 0x1f && b[1] === 0x8b;

/**
 * Opens a file for reads at any offset. In Node an uncompressed file is read piece by piece
 * (never whole); a gzipped one (`.gz`, as MNIST is distributed) is inflated into memory once.
 * In the browser the file is fetched whole.
 */
export async function openByteSource(path: string): Promise<ByteSource> {
  if (isNode()) {
    const fs = await import('node:fs/promises');
    let size: number;
    let head: Uint8Array;
    try {
      size = (await fs.stat(path)).size;
      const handle = await fs.open(path, 'r');
      try {
        head = new Uint8Array(2);
        await handle.read(head, 0, 2, 0);
      } finally {
        await handle.close();
      }
    } catch (cause) {
      throw new GraftError('DATASET_FILE_NOT_FOUND', `File not found: ${path}`, {
        where: path,
        cause,
      });
    }
    if (!isGzip(head)) {
      return {
        path,
        byteLength: size,
        async read(offset, length) {
          const out = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
          const handle = await fs.open(path, 'r');
          try {
            await handle.read(out, 0, out.length, offset);
          } finally {
            await handle.close();
          }
          return out;
        },
      };
    }
  }
  let bytes = await readBytes(path);
  if (isGzip(bytes)) bytes = await gunzip(bytes, path);
  const whole = bytes;
  return {
    path,
    byteLength: whole.length,
    read: async (offset, length) => whole.subarray(offset, Math.min(whole.length, offset + length)),
  };
}

async function gunzip(bytes: Uint8Array, path: string): Promise<Uint8Array> {
  try {
    if (isNode()) {
      const { gunzipSync } = await import('node:zlib');
      const out = gunzipSync(bytes);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
    const stream = new Blob([new Uint8Array(bytes)])
      .stream()
      .pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (cause) {
    throw new GraftError('DATASET_FORMAT_INVALID', 'Cannot inflate gzip file', {
      where: path,
      cause,
    });
  }
}
