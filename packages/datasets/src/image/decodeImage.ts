import { GraftError } from '@graft/errors';
import type { ExampleInput } from '../dataset';
import { isNode } from './environment';
import { importNodeOnly } from './importNodeOnly';

/**
 * Options of {@link decodeImage}: channels, and the name errors give the image.
 *
 * @example
 * ```ts
 * const options: DecodeOptions = { channels: 1, where: 'digits/7.png' };
 * ```
 */
export interface DecodeOptions {
  /** 3 for RGB (default), 1 for grey (luma). Alpha is dropped. */
  channels?: 1 | 3;
  /** Names the image in errors: the file, and the manifest row and column if any. */
  where?: string;
}

/** Image formats graft reads, by their first bytes. */
export function imageFormat(bytes: Uint8Array): 'png' | 'jpeg' | undefined {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/**
 * Decodes a PNG or JPEG into an HWC float image in [0, 1]. In Node with pngjs and jpeg-js
 * (pure JS, well kept); in the browser with the platform's decoder (createImageBitmap and an
 * OffscreenCanvas). A file that is neither, or that fails to decode, is a GraftError naming it.
 *
 * @example
 * ```ts
 * const input = await decodeImage(await readFile('cat.png'), { where: 'cat.png' });
 * input.shape; // [height, width, 3], values in [0, 1]
 * ```
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): Promise<ExampleInput> {
  const channels = options.channels ?? 3;
  const where = options.where ?? 'image';
  const format = imageFormat(bytes);
  if (!format) {
    throw new GraftError('DATASET_IMAGE_CORRUPT', 'Not a PNG or JPEG image', {
      where,
      hint: 'Convert the image to PNG or JPEG, or leave it out with skipInvalid (in a graft config: data.skipInvalid: true).',
    });
  }
  let rgba: { data: Uint8Array | Uint8ClampedArray; width: number; height: number };
  try {
    rgba = isNode() ? await decodeInNode(bytes, format) : await decodeInBrowser(bytes, format);
  } catch (cause) {
    throw new GraftError('DATASET_IMAGE_CORRUPT', `Cannot decode ${format.toUpperCase()} image`, {
      where,
      hint: 'The file is damaged or truncated; replace it, or leave it out with skipInvalid (in a graft config: data.skipInvalid: true).',
      cause,
    });
  }
  const { width, height, data } = rgba;
  if (!(width > 0 && height > 0) || data.length < width * height * 4) {
    throw new GraftError(
      'DATASET_IMAGE_CORRUPT',
      `Decoded image has no pixels (${width}x${height})`,
      {
        where,
      },
    );
  }
  return fromRgba(data, width, height, channels);
}

function fromRgba(
  data: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  channels: 1 | 3,
): ExampleInput {
  const n = width * height;
  const out = new Float32Array(n * channels);
  const s = 1 / 255;
  if (channels === 3) {
    for (let p = 0; p < n; p++) {
      out[3 * p] = (data[4 * p] as number) * s;
      out[3 * p + 1] = (data[4 * p + 1] as number) * s;
      out[3 * p + 2] = (data[4 * p + 2] as number) * s;
    }
  } else {
    for (let p = 0; p < n; p++) {
      out[p] =
        (0.299 * (data[4 * p] as number) +
          0.587 * (data[4 * p + 1] as number) +
          0.114 * (data[4 * p + 2] as number)) *
        s;
    }
  }
  return { data: out, shape: [height, width, channels] };
}

async function decodeInNode(
  bytes: Uint8Array,
  format: 'png' | 'jpeg',
): Promise<{ data: Uint8Array; width: number; height: number }> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === 'png') {
    const { PNG } = await importNodeOnly<typeof import('pngjs')>('pngjs');
    // pngjs expands palette, grey and 16-bit images to 8-bit RGBA.
    const png = PNG.sync.read(buffer);
    return { data: png.data, width: png.width, height: png.height };
  }
  const jpeg = await importNodeOnly<typeof import('jpeg-js')>('jpeg-js');
  const decode = jpeg.decode ?? (jpeg as unknown as { default: typeof jpeg }).default.decode;
  const image = decode(buffer, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
  return { data: image.data, width: image.width, height: image.height };
}

async function decodeInBrowser(
  bytes: Uint8Array,
  format: 'png' | 'jpeg',
): Promise<{ data: Uint8ClampedArray; width: number; height: number }> {
  const copy = new Uint8Array(bytes); // a Blob part must not be a view over a shared buffer
  const bitmap = await createImageBitmap(new Blob([copy], { type: `image/${format}` }));
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2d canvas context');
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const image = context.getImageData(0, 0, canvas.width, canvas.height);
  return { data: image.data, width: image.width, height: image.height };
}
