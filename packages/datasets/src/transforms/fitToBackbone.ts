import { GraftError } from '@graft/errors';
import { fitTo } from './crop';
import { type BackbonePreprocessing, normalize } from './normalize';
import type { Transform } from './transform';

/**
 * The deterministic transforms that turn [0, 1] images into what a backbone takes: resize
 * (aspect kept) and centre-crop to its input size, then normalise to its range. Add
 * augmentations before these (they expect [0, 1] pixels).
 *
 * @example
 * ```ts
 * const pre = backbone.preprocessing;
 * const ready = mapExamples(data, fitToBackbone({ ...pre, size: [64, 64] }));
 * ```
 */
export function fitToBackbone(preprocessing: BackbonePreprocessing): Transform[] {
  const size = preprocessing.size;
  if (!size) {
    throw new GraftError('INVALID_ARGUMENT', 'preprocessing has no input size', {
      where: 'fitToBackbone',
      hint: 'Pass { size: [height, width] } or use normalize() alone.',
    });
  }
  return [fitTo({ height: size[0], width: size[1] }), normalize(preprocessing)];
}
