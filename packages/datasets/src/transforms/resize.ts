import type { ExampleInput } from '../dataset';
import { imageShape, type Transform } from './transform';

/**
 * The exact height and width {@link resize} produces.
 *
 * @example
 * ```ts
 * const toMnistSize = resize({ height: 28, width: 28 } satisfies ResizeOptions);
 * ```
 */
export interface ResizeOptions {
  height: number;
  width: number;
}

/**
 * Bilinear resize to exactly height x width (aspect ratio not kept; see `fitTo` for that),
 * sampling at pixel centres like `tf.image.resizeBilinear(..., halfPixelCenters=true)`.
 *
 * @example
 * ```ts
 * const small = mapExamples(data, [resize({ height: 32, width: 32 })]);
 * ```
 */
export function resize(options: ResizeOptions): Transform {
  const { height, width } = options;
  return {
    name: `resize(${height}x${width})`,
    random: false,
    apply: (input) => resizeBilinear(input, height, width),
  };
}

export function resizeBilinear(input: ExampleInput, height: number, width: number): ExampleInput {
  const [h, w, c] = imageShape(input, 'resize');
  if (h === height && w === width) return input;
  const src = input.data;
  const out = new Float32Array(height * width * c);
  const sy = h / height;
  const sx = w / width;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(h - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(h - 1, y0 + 1);
    const dy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(w - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(w - 1, x0 + 1);
      const dx = fx - x0;
      const o = (y * width + x) * c;
      const a = (y0 * w + x0) * c;
      const b = (y0 * w + x1) * c;
      const d = (y1 * w + x0) * c;
      const e = (y1 * w + x1) * c;
      for (let k = 0; k < c; k++) {
        const top = (src[a + k] as number) * (1 - dx) + (src[b + k] as number) * dx;
        const bottom = (src[d + k] as number) * (1 - dx) + (src[e + k] as number) * dx;
        out[o + k] = top * (1 - dy) + bottom * dy;
      }
    }
  }
  return { data: out, shape: [height, width, c] };
}
