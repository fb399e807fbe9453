import { GraftError } from '@graft/errors';
import { isNode } from '../image/environment';
import type { TaskSpecs } from '../taskSpec';
import { type FileDataset, type ImageRecord, imageRecordsDataset } from './imageRecords';
import { emptySkipReport } from './skipReport';

/**
 * Options of {@link imageFolder}: the task name, channels, file extensions, and whether bad
 * images are skipped.
 *
 * @example
 * ```ts
 * const options: ImageFolderOptions = { task: 'animal', channels: 3, skipInvalid: true };
 * ```
 */
export interface ImageFolderOptions {
  /** Name of the classification task. Default `'class'`. */
  task?: string;
  /** 3 for RGB (default), 1 for grey. */
  channels?: 1 | 3;
  /** File extensions read (lower case, with the dot). Default `.png`, `.jpg`, `.jpeg`. */
  extensions?: readonly string[];
  /** Leave out unreadable or corrupt images (reported in `skipped`) instead of failing. */
  skipInvalid?: boolean;
}

/**
 * A classification dataset from a folder with one sub-folder per class
 * (`root/cat/1.png`, `root/dog/7.jpg`, ...). Classes are the sub-folder names in sorted
 * order; ids are paths relative to `root`. Node only (a browser cannot list a folder: use a
 * manifest of URLs there).
 *
 * @example
 * ```ts
 * const pets = await imageFolder('data/pets', { task: 'animal' }); // data/pets/cat/1.png, ...
 * pets.tasks.animal; // { kind: 'classification', classes: ['cat', 'dog'] }
 * ```
 */
export async function imageFolder(
  root: string,
  options: ImageFolderOptions = {},
): Promise<FileDataset> {
  if (!isNode()) {
    throw new GraftError('INVALID_ARGUMENT', 'imageFolder needs a file system (Node)', {
      where: root,
      hint: 'In the browser, list image URLs in a manifest and use manifest().',
    });
  }
  const { readdir, stat } = await import('node:fs/promises');
  const path = await import('node:path');
  const task = options.task ?? 'class';
  const extensions = (options.extensions ?? ['.png', '.jpg', '.jpeg']).map((e) => e.toLowerCase());
  try {
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
  } catch (cause) {
    throw new GraftError('DATASET_FILE_NOT_FOUND', `Image folder not found: ${root}`, {
      where: root,
      hint: 'Pass a folder that holds one sub-folder of images per class.',
      cause,
    });
  }
  const entries = await readdir(root, { withFileTypes: true });
  const classes = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  const records: ImageRecord[] = [];
  for (const [k, cls] of classes.entries()) {
    const files = (await readdir(path.join(root, cls), { withFileTypes: true }))
      .filter((e) => e.isFile() && extensions.includes(path.extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort();
    for (const file of files) {
      const id = `${cls}/${file}`;
      const full = path.join(root, cls, file);
      records.push({ path: full, where: full, labels: { id, targets: { [task]: k } } });
    }
  }
  if (records.length === 0) {
    throw new GraftError('DATASET_EMPTY', 'No images found', {
      where: root,
      hint: `Expected sub-folders (one per class) holding ${extensions.join('/')} files; found ${classes.length} sub-folder(s).`,
    });
  }
  const tasks: TaskSpecs = { [task]: { kind: 'classification', classes } };
  const dataset = await imageRecordsDataset(records, {
    tasks,
    channels: options.channels ?? 3,
    skipInvalid: options.skipInvalid ?? false,
    report: emptySkipReport(),
    description: `imageFolder ${root}`,
  });
  if (dataset.size === 0) {
    throw new GraftError('DATASET_EMPTY', `Every image was skipped (${dataset.skipped.skipped})`, {
      where: root,
      hint: `First problem: ${dataset.skipped.examples[0]?.reason ?? 'unknown'}`,
    });
  }
  return dataset;
}
