import { createRng } from '../random';

/**
 * Options of {@link quadrantShapes}: how many images, their size, the seed, and the chance of a
 * shape per quadrant.
 *
 * @example
 * ```ts
 * const options: QuadrantShapesOptions = { count: 64, size: 32, seed: 1, presence: 0.3 };
 * ```
 */
export interface QuadrantShapesOptions {
  /** Number of images. */
  count: number;
  /** Height and width in pixels. */
  size: number;
  seed: number;
  /** Chance that each quadrant holds a shape. Default 0.5. */
  presence?: number;
}

/**
 * The images and labels {@link quadrantShapes} generates, as flat arrays.
 *
 * @example
 * ```ts
 * const { images, labels, labelNames }: QuadrantShapes = quadrantShapes({ count: 8, size: 16, seed: 1 });
 * ```
 */
export interface QuadrantShapes {
  /** [count, size, size, 3] floats in [0, 1], HWC per image, images back to back. */
  images: Float32Array;
  /** [count, 4] multi-label targets: 1 when the quadrant (TL, TR, BL, BR) holds a shape. */
  labels: Float32Array;
  labelNames: readonly ['topLeft', 'topRight', 'bottomLeft', 'bottomRight'];
}

/**
 * A tiny multi-label task for smoke runs: noisy coloured backgrounds where each quadrant
 * independently may hold a bright square of random colour, size and position. Several labels
 * can be on at once, so it needs sigmoid outputs, not softmax. Seeded and deterministic.
 *
 * @example
 * ```ts
 * const { images, labels } = quadrantShapes({ count: 64, size: 32, seed: 1 });
 * const x = tf.tensor4d(images, [64, 32, 32, 3]);
 * const y = tf.tensor2d(labels, [64, 4]); // multi-label: TL, TR, BL, BR
 * ```
 */
export function quadrantShapes(options: QuadrantShapesOptions): QuadrantShapes {
  const { count, size, seed } = options;
  const presence = options.presence ?? 0.5;
  if (!Number.isInteger(size) || size < 8)
    throw new Error(`quadrantShapes: size must be >= 8, got ${size}`);
  const rng = createRng(seed);
  const images = new Float32Array(count * size * size * 3);
  const labels = new Float32Array(count * 4);
  const half = size >> 1;
  for (let n = 0; n < count; n++) {
    const base = n * size * size * 3;
    const bg = [rng.next() * 0.4, rng.next() * 0.4, rng.next() * 0.4];
    for (let i = 0; i < size * size; i++) {
      for (let c = 0; c < 3; c++) images[base + i * 3 + c] = (bg[c] as number) + rng.next() * 0.1;
    }
    for (let q = 0; q < 4; q++) {
      if (rng.next() >= presence) continue;
      labels[n * 4 + q] = 1;
      const side = 2 + rng.int(Math.max(1, half - 3));
      const y0 = (q >> 1) * half + rng.int(half - side + 1);
      const x0 = (q & 1) * half + rng.int(half - side + 1);
      const colour = [0.6 + rng.next() * 0.4, 0.6 + rng.next() * 0.4, 0.6 + rng.next() * 0.4];
      for (let y = y0; y < y0 + side; y++) {
        for (let x = x0; x < x0 + side; x++) {
          for (let c = 0; c < 3; c++) images[base + (y * size + x) * 3 + c] = colour[c] as number;
        }
      }
    }
  }
  return { images, labels, labelNames: ['topLeft', 'topRight', 'bottomLeft', 'bottomRight'] };
}
