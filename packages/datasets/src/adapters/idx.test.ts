import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type GraftErrorCode, isGraftError } from '@graft/errors';
import { describe, expect, it } from 'vitest';
import { idxBytes, tempDir, writeFile } from '../testing/fixtures';
import { idx } from './idx';

/** n 4x3 "digits": pixel k of image i is (i * 12 + k) % 256. */
function mnistLike(n: number, labelValues?: number[]) {
  const dir = tempDir();
  const pixels = Array.from({ length: n * 12 }, (_, k) => k % 256);
  const images = writeFile(join(dir, 'images-idx3-ubyte'), idxBytes([n, 4, 3], pixels));
  const labels = writeFile(
    join(dir, 'labels-idx1-ubyte'),
    idxBytes([n], labelValues ?? Array.from({ length: n }, (_, i) => i % 10)),
  );
  return { dir, images, labels };
}

async function failure(promise: Promise<unknown>, code: GraftErrorCode): Promise<string> {
  try {
    await promise;
  } catch (e) {
    expect(isGraftError(e, code), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error(`expected a ${code} GraftError`);
}

describe('idx (MNIST format)', () => {
  it('reads images as [rows, cols, 1] in [0, 1] and labels as a 10-class task', async () => {
    const { images, labels } = mnistLike(7);
    const ds = await idx({ images, labels });
    expect(ds.size).toBe(7);
    expect(ds.tasks).toEqual({
      digit: {
        kind: 'classification',
        classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      },
    });
    const e = await ds.get(5);
    expect(e).toMatchObject({ id: '5', targets: { digit: 5 } });
    expect(e.input.shape).toEqual([4, 3, 1]);
    expect(Array.from(e.input.data).map((v) => Math.round(v * 255))).toEqual(
      Array.from({ length: 12 }, (_, k) => 60 + k),
    );
    const all = [];
    for await (const x of ds) all.push(x.targets.digit);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('reads gzipped files, float data, and images without labels', async () => {
    const { dir, images, labels } = mnistLike(3);
    const gz = join(dir, 'images.gz');
    const { readFileSync } = await import('node:fs');
    writeFileSync(gz, gzipSync(readFileSync(images)));
    const zipped = await idx({ images: gz, labels, task: 'n' });
    expect(Array.from((await zipped.get(2)).input.data).map((v) => Math.round(v * 255))).toEqual(
      Array.from({ length: 12 }, (_, k) => 24 + k),
    );
    const floats = writeFile(
      join(dir, 'f.idx'),
      idxBytes([2, 3], [0.5, -1, 2, 3, 4, 5.25], 'float'),
    );
    const f = await idx({ images: floats });
    expect(f.tasks).toEqual({});
    expect((await f.get(1)).input).toEqual({ data: new Float32Array([3, 4, 5.25]), shape: [3] });
  });

  it('streams chunks from disk: a change to the file after opening is seen', async () => {
    const n = 3000; // 28x28 bytes each: 2.4 MB, read in 1 MB chunks
    const dir = tempDir();
    const size = 28 * 28;
    const path = writeFile(
      join(dir, 'big-idx3-ubyte'),
      idxBytes([n, 28, 28], new Uint8Array(n * size)),
    );
    const ds = await idx({ images: path });
    expect(Math.max(...(await ds.get(0)).input.data)).toBe(0);
    // Rewrite the last image in place: a dataset that had loaded the file would not see it.
    const bytes = idxBytes([n, 28, 28], new Uint8Array(n * size).fill(255, (n - 1) * size));
    writeFileSync(path, bytes);
    expect(Math.min(...(await ds.get(n - 1)).input.data)).toBe(1);
  });

  it('names the file (and row) for bad magic, truncation, count mismatch, unknown label, missing file', async () => {
    const { dir, images, labels } = mnistLike(4);
    const text = writeFile(join(dir, 'text'), 'hello world, no idx here');
    expect(await failure(idx({ images: text }), 'DATASET_FORMAT_INVALID')).toContain(
      `Not an IDX file: bad magic number (${text})`,
    );
    const short = writeFile(join(dir, 'short'), idxBytes([5, 4, 3], new Array(40).fill(1)));
    expect(await failure(idx({ images: short }), 'DATASET_FORMAT_INVALID')).toBe(
      `IDX file is truncated: 56 bytes, its header promises 76 (${short}). Download or copy the file again.`,
    );
    const other = mnistLike(5).labels;
    expect(await failure(idx({ images, labels: other }), 'DATASET_FORMAT_INVALID')).toContain(
      `5 labels for 4 images (${other} and ${images})`,
    );
    const odd = mnistLike(4, [1, 2, 12, 3]).labels;
    expect(await failure(idx({ images, labels: odd }), 'DATASET_LABEL_UNKNOWN')).toContain(
      `Unknown label value 12 (10 classes) (${odd} row 2)`,
    );
    const nowhere = join(dir, 'missing-idx3-ubyte');
    expect(await failure(idx({ images: nowhere, labels }), 'DATASET_FILE_NOT_FOUND')).toContain(
      nowhere,
    );
    // The labels file passed as the images (swapped paths).
    expect(await failure(idx({ images: labels, labels }), 'DATASET_FORMAT_INVALID')).toContain(
      `IDX file holds one value per item (dims [4]), not images (${labels}). Is it a labels file?`,
    );
    const empty = writeFile(join(dir, 'empty'), idxBytes([0, 4, 3], []));
    await failure(idx({ images: empty }), 'DATASET_EMPTY');
  });
});
