import type { ExampleLabels, IndexedDataset } from '../dataset';
import { decodeImage } from '../image/decodeImage';
import { readBytes } from '../image/readBytes';
import { indexedDataset } from '../indexedDataset';
import type { TaskSpecs } from '../taskSpec';
import { orSkip, type SkipReport } from './skipReport';

/** An example whose input is an image file. */
export interface ImageRecord {
  path: string;
  /** Names the image in errors: file, and manifest row and column if any. */
  where: string;
  labels: ExampleLabels;
}

/**
 * A dataset read from files, with what `skipInvalid` left out.
 *
 * @example
 * ```ts
 * const data: FileDataset = await manifest('labels.csv', { tasks, skipInvalid: true });
 * console.log(describeSkips(data.skipped));
 * ```
 */
export interface FileDataset extends IndexedDataset {
  readonly skipped: SkipReport;
}

export interface ImageRecordsOptions {
  tasks: TaskSpecs;
  channels: 1 | 3;
  skipInvalid: boolean;
  report: SkipReport;
  description: string;
}

/**
 * A dataset over image files that decodes each image when it is loaded, so memory holds a
 * batch, not the dataset. With `skipInvalid`, every image is read and decoded once up front
 * (one at a time) so that a corrupt file is left out before training, not found mid-epoch;
 * the dataset's size is then exact.
 */
export async function imageRecordsDataset(
  records: readonly ImageRecord[],
  options: ImageRecordsOptions,
): Promise<FileDataset> {
  const { channels, skipInvalid, report } = options;
  const load = async (r: ImageRecord) =>
    decodeImage(await readBytes(r.path, r.where), { channels, where: r.where });
  let kept = records;
  if (skipInvalid) {
    const valid: ImageRecord[] = [];
    for (const r of records) if (await orSkip(true, report, () => load(r))) valid.push(r);
    kept = valid;
  }
  const dataset = indexedDataset({
    size: kept.length,
    tasks: options.tasks,
    description: options.description,
    labelsAt: (i) => (kept[i] as ImageRecord).labels,
    async get(i) {
      const r = kept[i] as ImageRecord;
      return { ...r.labels, input: await load(r) };
    },
  });
  return { ...dataset, skipped: report };
}
