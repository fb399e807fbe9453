import '@tensorflow/tfjs-backend-cpu';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type GraftErrorCode, isGraftError } from '@graft/errors';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { batches, disposeBatch } from '../batching/batches';
import { jpegBytes, pngBytes, tempDir, writeFile } from '../testing/fixtures';
import { manifest } from './manifest';
import { describeSkips } from './skipReport';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const solid = (v: number) => (): [number, number, number] => [v, v, v];

/** A folder with img/0.png ... img/{n-1}.png, pixel value 5 * i. */
function images(n: number): string {
  const dir = tempDir();
  for (let i = 0; i < n; i++) writeFile(join(dir, 'img', `${i}.png`), pngBytes(2, 2, solid(5 * i)));
  return dir;
}

const drivingTasks = {
  objects: { kind: 'multiLabel', columns: ['car', 'person'] },
  light: { kind: 'classification', column: 'light', classes: ['red', 'yellow', 'green'] },
  cars: { kind: 'regression', column: 'cars' },
} as const;

async function failure(promise: Promise<unknown>, code: GraftErrorCode): Promise<string> {
  try {
    await promise;
  } catch (e) {
    expect(isGraftError(e, code), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error(`expected a ${code} GraftError`);
}

describe('manifest (CSV)', () => {
  it('reads an image column and multi-label, classification and regression columns with missing markers', async () => {
    const dir = images(4);
    const csv = writeFile(
      join(dir, 'labels.csv'),
      'image,car,person,light,cars\nimg/0.png,1,0,red,2\nimg/1.png,?,1,,0\nimg/2.png,NA,null,green,NA\n"img/3.png",0,1,yellow,1.5\n',
    );
    const ds = await manifest(csv, { tasks: drivingTasks });
    expect(ds.tasks).toEqual({
      objects: { kind: 'multiLabel', labels: ['car', 'person'] },
      light: { kind: 'classification', classes: ['red', 'yellow', 'green'] },
      cars: { kind: 'regression', outputs: 1 },
    });
    expect([0, 1, 2, 3].map((i) => ds.labelsAt(i))).toEqual([
      { id: 'img/0.png', targets: { objects: [1, 0], light: 0, cars: 2 } },
      { id: 'img/1.png', targets: { objects: [null, 1], light: null, cars: 0 } },
      { id: 'img/2.png', targets: { objects: null, light: 2, cars: null } },
      { id: 'img/3.png', targets: { objects: [0, 1], light: 1, cars: 1.5 } },
    ]);
    const third = await ds.get(3);
    expect(third.input.shape).toEqual([2, 2, 3]);
    expect(third.input.data[0]).toBeCloseTo(15 / 255, 6);
  });

  it('infers classes, honours custom missing markers, ids, delimiters and a base folder', async () => {
    const dir = images(3);
    const csv = writeFile(
      join(tempDir(), 'm.tsv'),
      'name\tfile\tkind\nA\timg/0.png\tdog\nB\timg/2.png\t-\nC\timg/1.png\tcat\n',
    );
    const ds = await manifest(csv, {
      delimiter: '\t',
      imageColumn: 'file',
      idColumn: 'name',
      baseDir: dir,
      missing: ['-'],
      tasks: { kind: { kind: 'classification', column: 'kind' } },
    });
    expect(ds.tasks.kind).toEqual({ kind: 'classification', classes: ['cat', 'dog'] });
    expect([0, 1, 2].map((i) => ds.labelsAt(i))).toEqual([
      { id: 'A', targets: { kind: 1 } },
      { id: 'B', targets: { kind: null } },
      { id: 'C', targets: { kind: 0 } },
    ]);
    expect((await ds.get(1)).input.data[0]).toBeCloseTo(10 / 255, 6);
  });

  it('names file, row and column for each kind of bad input', async () => {
    const dir = images(2);
    writeFile(join(dir, 'img', 'bad.png'), 'not a png at all');
    writeFile(join(dir, 'img', 'photo.jpg'), jpegBytes(4, 4, solid(50)));
    const at = (name: string, text: string) => writeFile(join(dir, name), text);
    const header = 'image,car,person,light,cars\n';

    const missingFile = at('a.csv', `${header}img/0.png,1,0,red,1\nimg/9.png,1,0,red,1\n`);
    expect(
      await failure(manifest(missingFile, { tasks: drivingTasks }), 'DATASET_FILE_NOT_FOUND'),
    ).toBe(
      `File not found: ${join(dir, 'img', '9.png')} (${missingFile} row 3, column "image"). Image paths are relative to the manifest (or to baseDir).`,
    );

    const corrupt = at('b.csv', `${header}img/photo.jpg,1,0,red,1\nimg/bad.png,0,0,green,0\n`);
    const ds = await manifest(corrupt, { tasks: drivingTasks });
    expect((await ds.get(0)).input.shape).toEqual([4, 4, 3]);
    expect(await failure(ds.get(1), 'DATASET_IMAGE_CORRUPT')).toContain(
      `(${join(dir, 'img', 'bad.png')}, ${corrupt} row 3, column "image")`,
    );

    const unknown = at('c.csv', `${header}img/0.png,1,0,purple,1\n`);
    expect(await failure(manifest(unknown, { tasks: drivingTasks }), 'DATASET_LABEL_UNKNOWN')).toBe(
      `Unknown label value "purple" for task "light" (${unknown} row 2, column "light"). Expected one of red, yellow, green, or a missing marker.`,
    );
    const notBinary = at('c2.csv', `${header}img/0.png,1,2,red,1\n`);
    expect(
      await failure(manifest(notBinary, { tasks: drivingTasks }), 'DATASET_LABEL_UNKNOWN'),
    ).toContain(`(${notBinary} row 2, column "person")`);
    const notNumber = at('c3.csv', `${header}img/0.png,1,0,red,many\n`);
    expect(
      await failure(manifest(notNumber, { tasks: drivingTasks }), 'DATASET_LABEL_UNKNOWN'),
    ).toContain(`(${notNumber} row 2, column "cars"). Expected a number`);

    const noColumn = at('d.csv', 'image,car,person,light\nimg/0.png,1,0,red\n');
    expect(
      await failure(manifest(noColumn, { tasks: drivingTasks }), 'DATASET_COLUMN_NOT_FOUND'),
    ).toBe(
      `Column "cars" (task "cars") does not exist (${noColumn}, column "cars"). Columns: "image", "car", "person", "light".`,
    );

    const empty = at('e.csv', header);
    expect(await failure(manifest(empty, { tasks: drivingTasks }), 'DATASET_EMPTY')).toContain(
      `(${empty})`,
    );

    const ragged = at('f.csv', `${header}img/0.png,1,0,red,1\nimg/1.png,1,0\n`);
    expect(await failure(manifest(ragged, { tasks: drivingTasks }), 'DATASET_ROW_RAGGED')).toBe(
      `Row has 3 fields but the header has 5: missing columns "light", "cars" (${ragged} row 3, column "light"). Every row needs one field per header column (leave a field empty for a missing label).`,
    );

    const nowhere = join(dir, 'none.csv');
    expect(
      await failure(manifest(nowhere, { tasks: drivingTasks }), 'DATASET_FILE_NOT_FOUND'),
    ).toContain(nowhere);
  });

  it('with skipInvalid, goes on and reports how many rows were skipped and why', async () => {
    const dir = images(3);
    writeFile(join(dir, 'img', 'bad.png'), pngBytes(4, 4, solid(1)).subarray(0, 40));
    const csv = writeFile(
      join(dir, 'all.csv'),
      [
        'image,car,person,light,cars',
        'img/0.png,1,0,red,1',
        'img/1.png,1,0', // ragged
        'img/2.png,1,0,purple,1', // unknown label
        'img/7.png,0,0,green,0', // missing file
        'img/bad.png,0,1,green,0', // corrupt image
        'img/2.png,0,1,,3',
      ].join('\n'),
    );
    const ds = await manifest(csv, { tasks: drivingTasks, skipInvalid: true });
    expect(ds.size).toBe(2);
    expect(ds.skipped.skipped).toBe(4);
    expect(ds.skipped.byCode).toEqual({
      DATASET_ROW_RAGGED: 1,
      DATASET_LABEL_UNKNOWN: 1,
      DATASET_FILE_NOT_FOUND: 1,
      DATASET_IMAGE_CORRUPT: 1,
    });
    expect(ds.skipped.examples.map((e) => e.where)).toEqual([
      `${csv} row 3, column "light"`,
      `${csv} row 4, column "light"`,
      `${csv} row 5, column "image"`,
      `${join(dir, 'img', 'bad.png')}, ${csv} row 6, column "image"`,
    ]);
    expect(describeSkips(ds.skipped)).toBe(
      '4 examples skipped: 1 DATASET_ROW_RAGGED, 1 DATASET_LABEL_UNKNOWN, 1 DATASET_FILE_NOT_FOUND, 1 DATASET_IMAGE_CORRUPT',
    );
    const seen = [];
    for await (const b of batches(ds, { batchSize: 4 })) {
      seen.push(...b.ids);
      disposeBatch(b);
    }
    expect(seen).toEqual(['img/0.png', 'img/2.png']);
  });

  it('streams: images are read when loaded, never all held (a file changed mid-run is seen)', async () => {
    const n = 40;
    const dir = images(n);
    const lines = Array.from({ length: n }, (_, i) => `img/${i}.png,${i % 2}`);
    const csv = writeFile(join(dir, 'm.csv'), `image,flag\n${lines.join('\n')}\n`);
    const ds = await manifest(csv, { tasks: { flag: { kind: 'multiLabel', columns: ['flag'] } } });
    let first = true;
    const values: number[] = [];
    for await (const b of batches(ds, { batchSize: 8, prefetch: 1 })) {
      if (first) {
        // After the first batch: rewrite a late image and delete another one.
        writeFile(join(dir, 'img', '30.png'), pngBytes(2, 2, solid(255)));
        rmSync(join(dir, 'img', '39.png'));
        first = false;
      }
      const x = b.x.dataSync();
      for (let i = 0; i < b.size; i++) values.push(Math.round((x[i * 12] as number) * 255));
      disposeBatch(b);
      if (values.length >= 32) break;
    }
    expect(values[30]).toBe(255);
    expect(values.slice(0, 30)).toEqual(Array.from({ length: 30 }, (_, i) => 5 * i));
    await expect(ds.get(39)).rejects.toThrow(/File not found/);
  });
});

describe('manifest (JSONL)', () => {
  it('reads JSON values: null and missing keys are missing, booleans and numbers are labels', async () => {
    const dir = images(3);
    const jsonl = writeFile(
      join(dir, 'm.jsonl'),
      [
        JSON.stringify({ image: 'img/0.png', car: true, person: 0, light: 'red', cars: 2 }),
        '',
        JSON.stringify({ image: 'img/1.png', car: null, person: 1, cars: '1' }),
        JSON.stringify({ image: 'img/2.png', car: 0, person: '?', light: 'green', cars: null }),
      ].join('\n'),
    );
    const ds = await manifest(jsonl, { tasks: drivingTasks });
    expect([0, 1, 2].map((i) => ds.labelsAt(i).targets)).toEqual([
      { objects: [1, 0], light: 0, cars: 2 },
      { objects: [null, 1], light: null, cars: 1 },
      { objects: [0, null], light: 2, cars: null },
    ]);
    const bad = writeFile(
      join(dir, 'bad.jsonl'),
      `${JSON.stringify({ image: 'img/0.png' })}\n{"image": oops}\n`,
    );
    expect(await failure(manifest(bad, { tasks: {} }), 'DATASET_FORMAT_INVALID')).toContain(
      `(${bad} row 2)`,
    );
    const unknown = writeFile(
      join(dir, 'u.jsonl'),
      JSON.stringify({ image: 'img/0.png', car: 'yes', person: 0, light: 'red', cars: 1 }),
    );
    expect(
      await failure(manifest(unknown, { tasks: drivingTasks }), 'DATASET_LABEL_UNKNOWN'),
    ).toContain(`(${unknown} row 1, column "car")`);
  });
});
