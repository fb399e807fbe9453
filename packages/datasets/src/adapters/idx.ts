import { GraftError } from '@graft/errors';
import type { IndexedDataset, Target } from '../dataset';
import { indexedDataset } from '../indexedDataset';
import type { TaskSpecs } from '../taskSpec';
import { type ByteSource, openByteSource } from './byteSource';

/**
 * Options of {@link idx}: the images file, the labels file, the task name and class names.
 *
 * @example
 * ```ts
 * const options: IdxOptions = {
 *   images: 'mnist/train-images-idx3-ubyte.gz',
 *   labels: 'mnist/train-labels-idx1-ubyte.gz',
 * };
 * ```
 */
export interface IdxOptions {
  /** IDX file of inputs, e.g. MNIST's `train-images-idx3-ubyte` (or its `.gz`). */
  images: string;
  /** IDX file of labels (one unsigned byte each), e.g. `train-labels-idx1-ubyte`. */
  labels?: string;
  /** Name of the classification task. Default `'digit'`. */
  task?: string;
  /** Class names, label value k -> classes[k]. Default `'0'` ... `'9'`. */
  classes?: readonly string[];
}

/** IDX element types graft reads: unsigned bytes (scaled to [0, 1]) and float32 (as is). */
const TYPES: Record<number, { name: string; bytes: number }> = {
  8: { name: 'ubyte', bytes: 1 },
  13: { name: 'float', bytes: 4 },
};

interface IdxHeader {
  type: number;
  dims: number[];
  dataOffset: number;
}

/**
 * A dataset from MNIST's IDX format (images and labels). Images `[n, rows, cols]` become
 * `[rows, cols, 1]` inputs in [0, 1]; labels a classification task. Inputs are read from the
 * file when loaded (a chunk at a time), not held in memory; `.gz` files are inflated once.
 *
 * @example
 * ```ts
 * const digits = await idx({
 *   images: 'mnist/train-images-idx3-ubyte.gz',
 *   labels: 'mnist/train-labels-idx1-ubyte.gz',
 * }); // inputs [28, 28, 1] in [0, 1]; task 'digit' with classes '0'..'9'
 * const rgb = mapExamples(digits, [toChannels(3)]);
 * ```
 */
export async function idx(options: IdxOptions): Promise<IndexedDataset> {
  const task = options.task ?? 'digit';
  const classes = options.classes ?? ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
  const images = await openByteSource(options.images);
  const header = await readHeader(images);
  // A 1-D file holds one number per item: a labels file given as the images (an easy swap).
  // Caught here, it is one clear line; later it surfaces as a shapeless input deep in a transform.
  if (header.dims.length < 2) {
    throw new GraftError(
      'DATASET_FORMAT_INVALID',
      `IDX file holds one value per item (dims [${header.dims.join(', ')}]), not images`,
      {
        where: images.path,
        hint: 'Is it a labels file? Pass the images file (e.g. train-images-idx3-ubyte) as images.',
      },
    );
  }
  const count = header.dims[0] as number;
  const type = TYPES[header.type] as { name: string; bytes: number };
  const itemShape = header.dims.length === 3 ? [...header.dims.slice(1), 1] : header.dims.slice(1);
  const itemValues = header.dims.slice(1).reduce((a, b) => a * b, 1);
  const itemBytes = itemValues * type.bytes;
  const expected = header.dataOffset + count * itemBytes;
  if (images.byteLength < expected) {
    throw new GraftError(
      'DATASET_FORMAT_INVALID',
      `IDX file is truncated: ${images.byteLength} bytes, its header promises ${expected}`,
      { where: images.path, hint: 'Download or copy the file again.' },
    );
  }
  if (count === 0)
    throw new GraftError('DATASET_EMPTY', 'The IDX file holds no items', { where: images.path });

  let labels: Uint8Array | undefined;
  if (options.labels) {
    const source = await openByteSource(options.labels);
    const lh = await readHeader(source);
    if (lh.type !== 0x08 || lh.dims.length !== 1) {
      throw new GraftError(
        'DATASET_FORMAT_INVALID',
        'Labels must be a 1-D IDX file of unsigned bytes',
        {
          where: source.path,
        },
      );
    }
    if (lh.dims[0] !== count) {
      throw new GraftError('DATASET_FORMAT_INVALID', `${lh.dims[0]} labels for ${count} images`, {
        where: `${source.path} and ${images.path}`,
        hint: 'Pair the images file with its own labels file (train with train, test with test).',
      });
    }
    labels = await source.read(lh.dataOffset, count);
    if (labels.length < count) {
      throw new GraftError(
        'DATASET_FORMAT_INVALID',
        `IDX file is truncated: ${labels.length} of ${count} labels`,
        {
          where: source.path,
        },
      );
    }
    const bad = labels.findIndex((v) => v >= classes.length);
    if (bad >= 0) {
      throw new GraftError(
        'DATASET_LABEL_UNKNOWN',
        `Unknown label value ${labels[bad]} (${classes.length} classes)`,
        {
          where: `${source.path} row ${bad}`,
          hint: 'Pass classes naming every label value.',
        },
      );
    }
  }
  const tasks: TaskSpecs = labels ? { [task]: { kind: 'classification', classes } } : {};

  // Reads go a chunk (about 1 MB) at a time; the last chunk is kept for sequential access.
  const perChunk = Math.max(1, Math.floor((1 << 20) / itemBytes));
  let cached: { first: number; bytes: Uint8Array } | undefined;
  const itemBytesAt = async (i: number): Promise<Uint8Array> => {
    const first = i - (i % perChunk);
    if (cached?.first !== first) {
      const n = Math.min(perChunk, count - first);
      cached = {
        first,
        bytes: await images.read(header.dataOffset + first * itemBytes, n * itemBytes),
      };
    }
    return cached.bytes.subarray((i - first) * itemBytes, (i - first + 1) * itemBytes);
  };
  const labelsAt = (i: number) => {
    const targets: Record<string, Target> = labels ? { [task]: labels[i] as number } : {};
    return { id: String(i), targets };
  };
  return indexedDataset({
    size: count,
    tasks,
    description: `idx ${images.path}`,
    labelsAt,
    async get(i) {
      const raw = await itemBytesAt(i);
      const data = new Float32Array(itemValues);
      if (header.type === 0x08) {
        for (let k = 0; k < itemValues; k++) data[k] = (raw[k] as number) / 255;
      } else {
        const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        for (let k = 0; k < itemValues; k++) data[k] = view.getFloat32(4 * k, false); // IDX is big-endian
      }
      return { ...labelsAt(i), input: { data, shape: itemShape } };
    },
  });
}

async function readHeader(source: ByteSource): Promise<IdxHeader> {
  const head = await source.read(0, 4);
  const bad = (what: string) =>
    new GraftError('DATASET_FORMAT_INVALID', `Not an IDX file: ${what}`, {
      where: source.path,
      hint: 'IDX files start with two zero bytes, a type byte and the number of dimensions.',
    });
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0) throw bad('bad magic number');
  const type = head[2] as number;
  const ndims = head[3] as number;
  if (!TYPES[type])
    throw bad(`unsupported element type 0x${type.toString(16)} (graft reads ubyte and float)`);
  if (ndims < 1) throw bad('no dimensions');
  const dimBytes = await source.read(4, 4 * ndims);
  if (dimBytes.length < 4 * ndims) throw bad('header is truncated');
  const view = new DataView(dimBytes.buffer, dimBytes.byteOffset, dimBytes.byteLength);
  const dims = Array.from({ length: ndims }, (_, k) => view.getUint32(4 * k, false));
  return { type, dims, dataOffset: 4 + 4 * ndims };
}
