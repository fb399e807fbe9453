import { imageShape, type Transform } from './transform';

/**
 * Options of {@link colorJitter}: how far brightness, contrast and saturation may move.
 *
 * @example
 * ```ts
 * const jitter = colorJitter({ brightness: 0.3, contrast: 0.2, saturation: 0 } satisfies ColorJitterOptions);
 * ```
 */
export interface ColorJitterOptions {
  /** Brightness factor drawn from [1 - b, 1 + b]. Default 0.2. */
  brightness?: number;
  /** Contrast factor (around the image mean) from [1 - c, 1 + c]. Default 0.2. */
  contrast?: number;
  /** Saturation factor (around each pixel's grey) from [1 - s, 1 + s]. Default 0.2. */
  saturation?: number;
}

/**
 * Augmentation: random brightness, contrast and saturation, for images in [0, 1] (apply it
 * before `normalize`). Results are clipped to [0, 1]. Saturation needs 3 channels and is
 * skipped on grey images.
 *
 * @example
 * ```ts
 * const source = batchSource(data, { batchSize: 32, seed: 1, transforms: [colorJitter(), ...fitToBackbone(pre)] });
 * ```
 */
export function colorJitter(options: ColorJitterOptions = {}): Transform {
  const b = options.brightness ?? 0.2;
  const ct = options.contrast ?? 0.2;
  const s = options.saturation ?? 0.2;
  return {
    name: 'colorJitter',
    random: true,
    apply(input, { rng }) {
      const [, , c] = imageShape(input, 'colorJitter');
      const brightness = 1 + b * (2 * rng.next() - 1);
      const contrast = 1 + ct * (2 * rng.next() - 1);
      const saturation = 1 + s * (2 * rng.next() - 1);
      const src = input.data;
      let mean = 0;
      for (const v of src) mean += v;
      mean = (mean / src.length) * brightness;
      const out = new Float32Array(src.length);
      for (let p = 0; p < src.length; p += c) {
        const grey =
          c === 3
            ? 0.299 * (src[p] as number) +
              0.587 * (src[p + 1] as number) +
              0.114 * (src[p + 2] as number)
            : 0;
        for (let k = 0; k < c; k++) {
          let v = (src[p + k] as number) * brightness;
          if (c === 3) v = grey * brightness + (v - grey * brightness) * saturation;
          v = mean + (v - mean) * contrast;
          out[p + k] = v < 0 ? 0 : Math.min(v, 1);
        }
      }
      return { data: out, shape: input.shape };
    },
  };
}
