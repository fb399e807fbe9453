import { join } from 'node:path';
import { isGraftError } from '@graft/errors';
import { describe, expect, it } from 'vitest';
import { jpegBytes, pngBytes, tempDir, writeFile } from '../testing/fixtures';
import { imageFolder } from './imageFolder';

const solid = (v: number) => (): [number, number, number] => [v, v, v];

function folder(): string {
  const root = tempDir();
  writeFile(join(root, 'dog', 'b.png'), pngBytes(4, 3, solid(255)));
  writeFile(join(root, 'cat', 'a.png'), pngBytes(4, 3, solid(0)));
  writeFile(join(root, 'cat', 'c.JPG'), jpegBytes(8, 8, solid(128)));
  writeFile(join(root, 'cat', 'notes.txt'), 'not an image');
  writeFile(join(root, '.cache', 'x.png'), pngBytes(2, 2, solid(1)));
  return root;
}

describe('imageFolder', () => {
  it('makes one class per sub-folder (sorted) and decodes PNG and JPEG on load', async () => {
    const ds = await imageFolder(folder());
    expect(ds.tasks).toEqual({ class: { kind: 'classification', classes: ['cat', 'dog'] } });
    expect(ds.size).toBe(3);
    expect([0, 1, 2].map((i) => ds.labelsAt(i))).toEqual([
      { id: 'cat/a.png', targets: { class: 0 } },
      { id: 'cat/c.JPG', targets: { class: 0 } },
      { id: 'dog/b.png', targets: { class: 1 } },
    ]);
    const dog = await ds.get(2);
    expect(dog.input.shape).toEqual([3, 4, 3]);
    expect(Math.min(...dog.input.data)).toBe(1);
    const jpeg = await ds.get(1);
    expect(jpeg.input.shape).toEqual([8, 8, 3]);
    expect(Math.abs((jpeg.input.data[0] as number) - 128 / 255)).toBeLessThan(0.03);
    const grey = await imageFolder(folder(), { channels: 1, task: 'animal' });
    expect((await grey.get(0)).input.shape).toEqual([3, 4, 1]);
    expect(Object.keys(grey.tasks)).toEqual(['animal']);
    expect(ds.skipped.skipped).toBe(0);
  });

  it('names a missing folder, and an empty one', async () => {
    const nowhere = join(tempDir(), 'nope');
    await expect(imageFolder(nowhere)).rejects.toThrow(
      `Image folder not found: ${nowhere} (${nowhere})`,
    );
    const empty = tempDir();
    writeFile(join(empty, 'cat', 'readme.md'), '# no images here');
    try {
      await imageFolder(empty);
      expect.unreachable();
    } catch (e) {
      expect(isGraftError(e, 'DATASET_EMPTY')).toBe(true);
      expect((e as Error).message).toContain(empty);
    }
  });

  it('names a corrupt image when it is loaded; skipInvalid leaves it out and says why', async () => {
    const root = folder();
    const bad = writeFile(
      join(root, 'dog', 'broken.png'),
      pngBytes(6, 6, solid(9)).subarray(0, 50),
    );
    const strict = await imageFolder(root);
    expect(strict.size).toBe(4);
    await expect(strict.get(3)).rejects.toThrow(`Cannot decode PNG image (${bad})`);
    const lenient = await imageFolder(root, { skipInvalid: true });
    expect(lenient.size).toBe(3);
    expect(lenient.skipped.skipped).toBe(1);
    expect(lenient.skipped.byCode).toEqual({ DATASET_IMAGE_CORRUPT: 1 });
    expect(lenient.skipped.examples[0]?.where).toBe(bad);
  });
});
