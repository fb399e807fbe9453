import { imageShape, type Transform } from './transform';

/**
 * Options of {@link randomFlip}: the chance of a left-right flip.
 *
 * @example
 * ```ts
 * const flip = randomFlip({ probability: 0.5 } satisfies RandomFlipOptions);
 * ```
 */
export interface RandomFlipOptions {
  /** Chance of a left-right flip. Default 0.5. */
  probability?: number;
}

/**
 * Augmentation: mirror left-right with the given probability (a road scene stays a road scene).
 *
 * @example
 * ```ts
 * const augmented = mapExamples(data, [randomFlip()], { seed: 1, epoch: 3 });
 * ```
 */
export function randomFlip(options: RandomFlipOptions = {}): Transform {
  const p = options.probability ?? 0.5;
  return {
    name: 'randomFlip',
    random: true,
    apply(input, { rng }) {
      const [h, w, c] = imageShape(input, 'randomFlip');
      if (rng.next() >= p) return input;
      const out = new Float32Array(input.data.length);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const from = (y * w + x) * c;
          out.set(input.data.subarray(from, from + c), (y * w + (w - 1 - x)) * c);
        }
      }
      return { data: out, shape: input.shape };
    },
  };
}
