import { GraftError } from '@graft/errors';
import { imageShape, type Transform } from './transform';

/**
 * Converts grey to RGB (repeating the channel) or RGB to grey (luma), e.g. MNIST digits into
 * a backbone built for colour.
 *
 * @example
 * ```ts
 * const rgbDigits = mapExamples(await idx({ images, labels }), [toChannels(3)]);
 * ```
 */
export function toChannels(channels: 1 | 3): Transform {
  return {
    name: `toChannels(${channels})`,
    random: false,
    apply(input) {
      const [h, w, c] = imageShape(input, 'toChannels');
      if (c === channels) return input;
      const n = h * w;
      const out = new Float32Array(n * channels);
      const src = input.data;
      if (c === 1 && channels === 3) {
        for (let p = 0; p < n; p++) out.fill(src[p] as number, p * 3, p * 3 + 3);
      } else if (c === 3 && channels === 1) {
        for (let p = 0; p < n; p++) {
          out[p] =
            0.299 * (src[3 * p] as number) +
            0.587 * (src[3 * p + 1] as number) +
            0.114 * (src[3 * p + 2] as number);
        }
      } else {
        throw new GraftError('SHAPE_MISMATCH', `cannot convert ${c} channels to ${channels}`, {
          where: 'toChannels',
        });
      }
      return { data: out, shape: [h, w, channels] };
    },
  };
}
