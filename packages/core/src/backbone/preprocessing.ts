import { GraftError } from '../errors';
import type { Shape } from '../nn/module';

/**
 * How images must be scaled before a backbone sees them: take pixel values in `inputRange`
 * (e.g. [0, 1] for decoded images, [0, 255] for bytes), then `(x - mean) / std` per channel,
 * at `size` [height, width, channels].
 *
 * @example
 * ```ts
 * const { inputRange, mean, std, size }: Preprocessing = pretrainedBackbone().preprocessing;
 * ```
 */
export interface Preprocessing {
  inputRange: readonly [number, number];
  mean: readonly number[];
  std: readonly number[];
  size: readonly [number, number, number];
}

/**
 * graft's default when a model says nothing: [0, 1] images mapped to [-1, 1] (mean 0.5, std
 * 0.5), the "tf" convention of Keras applications' MobileNetV2 and of graft's own backbones.
 *
 * @example
 * ```ts
 * defaultPreprocessing([96, 96, 3]); // { inputRange: [0, 1], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], size: [96, 96, 3] }
 * ```
 */
export function defaultPreprocessing(inputShape: Shape): Preprocessing {
  const channels = inputShape[2] ?? 3;
  return {
    inputRange: [0, 1],
    mean: Array.from({ length: channels }, () => 0.5),
    std: Array.from({ length: channels }, () => 0.5),
    size: imageSize(inputShape),
  };
}

/**
 * A model that starts with a Rescaling layer normalises its own input: feed it raw values
 * (mean 0, std 1). The range it expects follows from the scale: 1/255 or 1/127.5 means
 * bytes [0, 255]; anything else, [0, 1].
 */
export function preprocessingForRescaling(
  scale: number | readonly number[],
  inputShape: Shape,
): Preprocessing {
  const channels = inputShape[2] ?? 3;
  const s = typeof scale === 'number' ? scale : (scale[0] ?? 1);
  const bytes = Math.abs(s * 255 - 1) < 1e-3 || Math.abs(s * 127.5 - 1) < 1e-3;
  return {
    inputRange: bytes ? [0, 255] : [0, 1],
    mean: Array.from({ length: channels }, () => 0),
    std: Array.from({ length: channels }, () => 1),
    size: imageSize(inputShape),
  };
}

/** Checks user-given preprocessing against the input shape, filling `size` when absent. */
export function resolvePreprocessing(
  given: Partial<Preprocessing>,
  fallback: Preprocessing,
  where: string,
): Preprocessing {
  const out: Preprocessing = { ...fallback, ...given };
  const channels = out.size[2];
  const bad = (what: string) =>
    new GraftError('INVALID_ARGUMENT', `preprocessing.${what}`, {
      where: `${where} preprocessing`,
    });
  if (out.mean.length !== channels && out.mean.length !== 1)
    throw bad(`mean needs ${channels} values`);
  if (out.std.length !== channels && out.std.length !== 1)
    throw bad(`std needs ${channels} values`);
  if (!out.std.every((s) => s > 0)) throw bad('std must be positive');
  if (!(out.inputRange[1] > out.inputRange[0]))
    throw bad('inputRange must be [low, high] with low < high');
  return out;
}

function imageSize(inputShape: Shape): [number, number, number] {
  return [inputShape[0] ?? 0, inputShape[1] ?? 0, inputShape[2] ?? 0];
}
