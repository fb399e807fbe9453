// Test fixtures written at test time (never downloaded): images, manifests and IDX files in
// a fresh temporary folder. Not exported from the package.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

export function tempDir(prefix = 'graft-datasets-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** RGBA bytes of a w x h image whose pixel (x, y) is (r, g, b) = pixel(x, y). */
export function rgba(
  w: number,
  h: number,
  pixel: (x: number, y: number) => [number, number, number],
): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b] = pixel(x, y);
      data.set([r, g, b, 255], (y * w + x) * 4);
    }
  }
  return data;
}

export function pngBytes(
  w: number,
  h: number,
  pixel: (x: number, y: number) => [number, number, number],
): Buffer {
  const png = new PNG({ width: w, height: h });
  rgba(w, h, pixel).copy(png.data);
  return PNG.sync.write(png);
}

export function jpegBytes(
  w: number,
  h: number,
  pixel: (x: number, y: number) => [number, number, number],
): Buffer {
  return Buffer.from(jpeg.encode({ data: rgba(w, h, pixel), width: w, height: h }, 95).data);
}

export function writeFile(path: string, bytes: Uint8Array | string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}

/** An IDX file: big-endian header (0, 0, type, ndims, dims...) then the values. */
export function idxBytes(
  dims: readonly number[],
  values: ArrayLike<number>,
  type: 'ubyte' | 'float' = 'ubyte',
): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type === 'ubyte' ? 0x08 : 0x0d;
  header[3] = dims.length;
  dims.forEach((d, k) => {
    header.writeUInt32BE(d, 4 + 4 * k);
  });
  const body = Buffer.alloc(values.length * (type === 'ubyte' ? 1 : 4));
  for (let i = 0; i < values.length; i++) {
    if (type === 'ubyte') body[i] = values[i] as number;
    else body.writeFloatBE(values[i] as number, 4 * i);
  }
  return Buffer.concat([header, body]);
}
