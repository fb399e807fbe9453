import { GraftError } from '@graft/errors';
import type { Transform } from './transform';

/**
 * What a backbone expects its input to look like (the `preprocessing` of `@graft/core`'s
 * Backbone): pixel values mapped from [0, 1] to `inputRange`, then `(x - mean) / std` per
 * channel. MobileNetV2 (Keras): `{ inputRange: [-1, 1] }`. ImageNet-style torchvision
 * weights: `{ inputRange: [0, 1], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }`.
 *
 * @example
 * ```ts
 * const mobileNet: BackbonePreprocessing = { inputRange: [-1, 1], size: [96, 96] };
 * const transforms = fitToBackbone(mobileNet);
 * ```
 */
export interface BackbonePreprocessing {
  /** Range that [0, 1] pixels are mapped to first. Default [0, 1]. */
  inputRange?: readonly [number, number];
  /** Per-channel (or one) mean subtracted after the range mapping. Default 0. */
  mean?: number | readonly number[];
  /** Per-channel (or one) standard deviation divided by last. Default 1. */
  std?: number | readonly number[];
  /** Input [height, width] the backbone was built for; `fitToBackbone` resizes to it. */
  size?: readonly [number, number];
}

/**
 * Maps [0, 1] pixels the way a backbone's preprocessing says.
 *
 * @example
 * ```ts
 * const imagenet = normalize({ inputRange: [0, 1], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
 * ```
 */
export function normalize(preprocessing: BackbonePreprocessing): Transform {
  const [lo, hi] = preprocessing.inputRange ?? [0, 1];
  const perChannel = (v: number | readonly number[] | undefined, fallback: number) =>
    v === undefined ? [fallback] : typeof v === 'number' ? [v] : v;
  const mean = perChannel(preprocessing.mean, 0);
  const std = perChannel(preprocessing.std, 1);
  if (std.some((s) => !(s > 0))) {
    throw new GraftError('INVALID_ARGUMENT', 'std must be positive', { where: 'normalize' });
  }
  return {
    name: `normalize([${lo}, ${hi}])`,
    random: false,
    apply(input) {
      const c = input.shape[input.shape.length - 1] ?? 1;
      if ((mean.length !== 1 && mean.length !== c) || (std.length !== 1 && std.length !== c)) {
        throw new GraftError(
          'SHAPE_MISMATCH',
          `mean/std have ${mean.length}/${std.length} values for ${c} channels`,
          {
            where: 'normalize',
          },
        );
      }
      const scale = new Float32Array(c);
      const offset = new Float32Array(c);
      for (let k = 0; k < c; k++) {
        const m = (mean.length === 1 ? mean[0] : mean[k]) as number;
        const s = (std.length === 1 ? std[0] : std[k]) as number;
        scale[k] = (hi - lo) / s;
        offset[k] = (lo - m) / s;
      }
      const src = input.data;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const k = i % c;
        out[i] = (src[i] as number) * (scale[k] as number) + (offset[k] as number);
      }
      return { data: out, shape: input.shape };
    },
  };
}
