import { GraftError } from '../../errors';
import type { KerasLayerClass } from '../../nn/module';
import { activationCodec, reluCodec } from './activationCodecs';
import { conv2DCodec, depthwiseConv2DCodec, separableConv2DCodec } from './convolutionCodecs';
import { denseCodec, dropoutCodec, rescalingCodec } from './coreCodecs';
import type { KerasLayerCodec } from './kerasLayerCodec';
import { addCodec, concatenateCodec, multiplyCodec } from './mergingCodecs';
import { batchNormalizationCodec } from './normalizationCodecs';
import {
  averagePooling2DCodec,
  globalAveragePooling2DCodec,
  globalMaxPooling2DCodec,
  maxPooling2DCodec,
} from './poolingCodecs';
import { flattenCodec, reshapeCodec, zeroPadding2DCodec } from './reshapingCodecs';

/** Every Keras layer class graft reads and writes (InputLayer aside, which the graph owns). */
const CODECS: readonly KerasLayerCodec[] = [
  conv2DCodec,
  depthwiseConv2DCodec,
  separableConv2DCodec,
  batchNormalizationCodec,
  reluCodec,
  activationCodec,
  zeroPadding2DCodec,
  addCodec,
  multiplyCodec,
  concatenateCodec,
  maxPooling2DCodec,
  averagePooling2DCodec,
  globalAveragePooling2DCodec,
  globalMaxPooling2DCodec,
  reshapeCodec,
  flattenCodec,
  denseCodec,
  dropoutCodec,
  rescalingCodec,
];

const BY_CLASS = new Map<string, KerasLayerCodec>(CODECS.map((c) => [c.className, c]));

/**
 * Keras class names graft supports, for error messages and docs.
 *
 * @example
 * ```ts
 * SUPPORTED_KERAS_CLASSES.includes('SeparableConv2D'); // true
 * ```
 */
export const SUPPORTED_KERAS_CLASSES: readonly string[] = [
  'InputLayer',
  ...CODECS.map((c) => c.className),
];

const NESTED_MODEL_CLASSES = new Set(['Functional', 'Model', 'Sequential']);

/**
 * The codec for a Keras class, or LAYER_UNSUPPORTED naming the class and the layer: graft
 * never skips a layer it cannot run.
 */
export function kerasLayerCodec(className: string, layerName: string): KerasLayerCodec {
  const codec = BY_CLASS.get(className);
  if (codec) return codec;
  const where = `layer "${layerName}" (${className})`;
  if (NESTED_MODEL_CLASSES.has(className)) {
    throw new GraftError('LAYER_UNSUPPORTED', `Layer "${layerName}" is a nested ${className}`, {
      where,
      hint: 'Save the inner model on its own (e.g. the base network of a transfer-learning model) and load that.',
    });
  }
  throw new GraftError('LAYER_UNSUPPORTED', `Unsupported Keras layer class "${className}"`, {
    where,
    hint: `graft runs: ${SUPPORTED_KERAS_CLASSES.join(', ')}.`,
  });
}

/** The codec that writes a graft layer of this class. */
export function codecForLayer(className: KerasLayerClass, layerName: string): KerasLayerCodec {
  return kerasLayerCodec(className, layerName);
}
