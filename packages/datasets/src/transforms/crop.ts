import { GraftError } from '@graft/errors';
import type { ExampleInput } from '../dataset';
import { resizeBilinear } from './resize';
import { imageShape, type Transform } from './transform';

/**
 * The height and width of a crop (or of the covered area, for {@link fitTo}).
 *
 * @example
 * ```ts
 * const size: CropOptions = { height: 96, width: 96 };
 * const transforms = [fitTo(size)];
 * ```
 */
export interface CropOptions {
  height: number;
  width: number;
}

/** Copies the height x width window at (top, left); the window must fit inside the image. */
export function cropAt(
  input: ExampleInput,
  top: number,
  left: number,
  height: number,
  width: number,
): ExampleInput {
  const [h, w, c] = imageShape(input, 'crop');
  if (top < 0 || left < 0 || top + height > h || left + width > w) {
    throw new GraftError(
      'SHAPE_MISMATCH',
      `a ${height}x${width} crop does not fit a ${h}x${w} image`,
      {
        where: 'crop',
        hint: 'Resize first (fitTo or resize), or crop smaller.',
      },
    );
  }
  const out = new Float32Array(height * width * c);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * w + left) * c;
    out.set(input.data.subarray(from, from + width * c), y * width * c);
  }
  return { data: out, shape: [height, width, c] };
}

/**
 * The central height x width window.
 *
 * @example
 * ```ts
 * const transforms = [resize({ height: 72, width: 72 }), centerCrop({ height: 64, width: 64 })];
 * ```
 */
export function centerCrop(options: CropOptions): Transform {
  const { height, width } = options;
  return {
    name: `centerCrop(${height}x${width})`,
    random: false,
    apply(input) {
      const [h, w] = imageShape(input, 'centerCrop');
      return cropAt(
        input,
        Math.floor((h - height) / 2),
        Math.floor((w - width) / 2),
        height,
        width,
      );
    },
  };
}

/**
 * Scales the image so it covers height x width with its aspect ratio kept, then crops the
 * centre: what a backbone's input size needs from photos of any shape.
 *
 * @example
 * ```ts
 * const photos = mapExamples(data, [fitTo({ height: 96, width: 96 })]); // any aspect ratio in
 * ```
 */
export function fitTo(options: CropOptions): Transform {
  const { height, width } = options;
  return {
    name: `fitTo(${height}x${width})`,
    random: false,
    apply(input) {
      const [h, w] = imageShape(input, 'fitTo');
      const scale = Math.max(height / h, width / w);
      const rh = Math.max(height, Math.round(h * scale));
      const rw = Math.max(width, Math.round(w * scale));
      const resized = resizeBilinear(input, rh, rw);
      return cropAt(
        resized,
        Math.floor((rh - height) / 2),
        Math.floor((rw - width) / 2),
        height,
        width,
      );
    },
  };
}

/**
 * Options of {@link randomCrop}: the crop size and the zero padding added first.
 *
 * @example
 * ```ts
 * const crop = randomCrop({ height: 64, width: 64, padding: 4 } satisfies RandomCropOptions);
 * ```
 */
export interface RandomCropOptions extends CropOptions {
  /** Pixels of zero padding added on every side before cropping. Default 0. */
  padding?: number;
}

/**
 * Augmentation: a height x width window at a random position (after optional padding).
 *
 * @example
 * ```ts
 * const source = batchSource(data, { batchSize: 32, seed: 1, transforms: [randomCrop({ height: 64, width: 64, padding: 4 })] });
 * ```
 */
export function randomCrop(options: RandomCropOptions): Transform {
  const { height, width } = options;
  const pad = options.padding ?? 0;
  return {
    name: `randomCrop(${height}x${width})`,
    random: true,
    apply(input, { rng }) {
      let [h, w, c] = imageShape(input, 'randomCrop');
      let image = input;
      if (pad > 0) {
        const padded = new Float32Array((h + 2 * pad) * (w + 2 * pad) * c);
        for (let y = 0; y < h; y++) {
          padded.set(
            input.data.subarray(y * w * c, (y + 1) * w * c),
            ((y + pad) * (w + 2 * pad) + pad) * c,
          );
        }
        h += 2 * pad;
        w += 2 * pad;
        image = { data: padded, shape: [h, w, c] };
      }
      return cropAt(image, rng.int(h - height + 1), rng.int(w - width + 1), height, width);
    },
  };
}
