import type { Preprocessing } from '../backbone/preprocessing';
import { GraftError } from '../errors';
import { type MobileNetV2, mobileNetV2 } from '../models/mobileNetV2';
import { decodeBase64 } from '../native/decodeBase64';
import { decodeParamsInto, type ParamBlobManifest } from './paramBlob';
import { shippedBackbone, shippedBackboneWeights } from './shippedBackbone.generated';

/**
 * The backbone shipped inside `@graft/core`: a MobileNetV2 with its id and a record of how
 * its weights were trained.
 *
 * @example
 * ```ts
 * const trunk: PretrainedBackbone = pretrainedBackbone();
 * console.log(trunk.id, trunk.training);
 * ```
 */
export interface PretrainedBackbone extends MobileNetV2 {
  readonly id: string;
  readonly preprocessing: Preprocessing;
  /** How the shipped weights were made (task, steps, accuracy, command). */
  readonly training: Readonly<Record<string, unknown>>;
}

/**
 * Options of {@link pretrainedBackbone}: the input shape to build for, and the batch-norm
 * momentum for fine-tuning.
 *
 * @example
 * ```ts
 * const trunk = pretrainedBackbone('mobilenetv2-0.35', { inputShape: [96, 96, 3] } satisfies PretrainedBackboneOptions);
 * ```
 */
export interface PretrainedBackboneOptions {
  /** Input shape to build the trunk for. Default: the size it was trained at. Any size >= 32 works (the trunk is fully convolutional). */
  inputShape?: readonly [number, number, number];
  /**
   * Momentum of the batch-norm moving averages while fine-tuning. Default 0.9: graft's
   * fine-tuning runs are short (hundreds of steps), and at Keras's 0.999 the statistics would
   * still be 80% those of the pre-training data after 200 steps, so evaluation (which uses
   * them) would see a different network than training did.
   */
  batchNormMomentum?: number;
}

/**
 * Ids of the backbones shipped inside @graft/core.
 *
 * @example
 * ```ts
 * pretrainedBackboneIds(); // ['mobilenetv2-0.35']
 * ```
 */
export function pretrainedBackboneIds(): string[] {
  return [shippedBackbone.id];
}

/**
 * The backbone shipped inside @graft/core: a MobileNetV2 trunk pre-trained by `graft
 * pretrain` on generated shapes (task A). Works offline, in Node and the browser; the
 * weights are embedded in the package.
 *
 * @example
 * ```ts
 * const trunk = pretrainedBackbone();
 * const features = trunk.apply(normalised, { training: false }); // [n, 2, 2, 1280] at 64x64
 * ```
 */
export function pretrainedBackbone(
  id: string = shippedBackbone.id,
  options: PretrainedBackboneOptions = {},
): PretrainedBackbone {
  if (id !== shippedBackbone.id) {
    throw new GraftError('MODEL_NOT_FOUND', `No shipped backbone "${id}"`, {
      where: 'pretrainedBackbone()',
      hint: `Shipped: ${pretrainedBackboneIds().join(', ')}. Load your own with loadBackbone().`,
    });
  }
  const trained = shippedBackbone.architecture.trainedInputShape as unknown as [
    number,
    number,
    number,
  ];
  const net = mobileNetV2({
    alpha: shippedBackbone.architecture.alpha,
    inputShape: options.inputShape ?? trained,
    seed: 0,
    batchNormMomentum: options.batchNormMomentum ?? 0.9,
  });
  decodeParamsInto(
    net.params,
    shippedBackbone.manifest as unknown as ParamBlobManifest,
    decodeBase64(shippedBackboneWeights),
    `shipped backbone ${id}`,
  );
  const pre = shippedBackbone.preprocessing;
  return Object.assign(net, {
    id,
    preprocessing: { inputRange: pre.inputRange, mean: pre.mean, std: pre.std, size: trained },
    training: shippedBackbone.training,
  }) as PretrainedBackbone;
}
