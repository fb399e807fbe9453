import type { Backbone } from '../backbone/backbone';
import { backboneFromBlocks } from '../backbone/fromBlocks';
import { GraftError } from '../errors';
import { Add } from '../nn/add';
import { BatchNorm } from '../nn/batchNorm';
import { Block } from '../nn/block';
import { Conv2D } from '../nn/conv2d';
import { DepthwiseConv2D } from '../nn/depthwiseConv2d';
import type { Layer } from '../nn/module';
import { ReLU6 } from '../nn/relu';
import { ZeroPadding2D } from '../nn/zeroPadding2d';

/**
 * Options of {@link mobileNetV2}: width multiplier, input shape, seed, and the batch-norm
 * momentum.
 *
 * @example
 * ```ts
 * const options: MobileNetV2Options = { alpha: 0.5, inputShape: [128, 128, 3], seed: 7, batchNormMomentum: 0.9 };
 * ```
 */
export interface MobileNetV2Options {
  /** Width multiplier. Default 1.0. Keras ships ImageNet weights for 0.35, 0.5, 0.75, 1.0, 1.3, 1.4. */
  alpha?: number;
  /** `[height, width, channels]`, each side at least 32 as in Keras. Default `[224, 224, 3]`. */
  inputShape?: readonly [number, number, number];
  /** Seeds every initialiser: the same seed gives the same weights. */
  seed: number;
  /**
   * Momentum of every batch-norm moving average. Default 0.999, as Keras builds MobileNetV2;
   * pre-training from scratch uses less (0.99) so the statistics catch up with the weights.
   */
  batchNormMomentum?: number;
}

/**
 * A built-in MobileNetV2 backbone, with its width multiplier.
 *
 * @example
 * ```ts
 * const net: MobileNetV2 = mobileNetV2({ alpha: 0.35, inputShape: [96, 96, 3], seed: 1 });
 * net.alpha; // 0.35
 * ```
 */
export interface MobileNetV2 extends Backbone {
  readonly alpha: number;
}

/** Keras's BatchNormalization settings in keras.applications.MobileNetV2. */
const KERAS_BN = { momentum: 0.999, epsilon: 1e-3 } as const;

/** Inverted residual settings from the paper: expansion t, channels c, repeats n, first stride s. */
const STAGES: ReadonlyArray<readonly [t: number, c: number, n: number, s: number]> = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/**
 * MobileNetV2 feature extractor (no classifier), layer for layer and name for name as
 * `keras.applications.MobileNetV2(alpha, include_top=False)`, so a Keras loader and exporter
 * can map weights by name. Blocks: `stem`, `block_0` (Keras's `expanded_conv`) ... `block_16`,
 * `conv_head` (`Conv_1`).
 *
 * @example
 * ```ts
 * const net = mobileNetV2({ alpha: 0.35, inputShape: [96, 96, 3], seed: 1 });
 * const features = net.apply(images, { training: false }); // [batch, 3, 3, 1280]
 * ```
 */
export function mobileNetV2(options: MobileNetV2Options): MobileNetV2 {
  const alpha = options.alpha ?? 1.0;
  const inputShape = options.inputShape ?? [224, 224, 3];
  const { seed } = options;
  const BN = { ...KERAS_BN, momentum: options.batchNormMomentum ?? KERAS_BN.momentum };
  const description = `mobileNetV2(alpha=${alpha})`;
  validate(alpha, inputShape, seed, description);

  const blocks: Block[] = [];
  const firstFilters = makeDivisible(32 * alpha, 8);
  blocks.push(
    new Block({
      name: 'stem',
      stride: 2,
      layers: [
        new Conv2D({
          name: 'Conv1',
          block: 'stem',
          inputChannels: inputShape[2],
          filters: firstFilters,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          useBias: false,
          seed,
        }),
        new BatchNorm({ name: 'bn_Conv1', block: 'stem', channels: firstFilters, ...BN }),
        new ReLU6({ name: 'Conv1_relu' }),
      ],
    }),
  );

  // Keras's correct_pad depends on the spatial size entering each strided block.
  let channels = firstFilters;
  let size: [number, number] = [Math.ceil(inputShape[0] / 2), Math.ceil(inputShape[1] / 2)];
  let blockId = 0;
  for (const [expansion, filters, repeats, firstStride] of STAGES) {
    for (let i = 0; i < repeats; i++) {
      const stride = i === 0 ? firstStride : 1;
      // Keras truncates filters * alpha before rounding to a multiple of 8.
      const outChannels = makeDivisible(Math.trunc(filters * alpha), 8);
      blocks.push(
        invertedResidual({
          blockId,
          inChannels: channels,
          outChannels,
          expansion,
          stride,
          size,
          seed,
          bn: BN,
        }),
      );
      channels = outChannels;
      if (stride === 2) size = [Math.ceil(size[0] / 2), Math.ceil(size[1] / 2)];
      blockId++;
    }
  }

  // The paper keeps 1280 channels for narrow networks and widens them only for alpha > 1.
  const lastFilters = alpha > 1 ? makeDivisible(1280 * alpha, 8) : 1280;
  blocks.push(
    new Block({
      name: 'conv_head',
      layers: [
        new Conv2D({
          name: 'Conv_1',
          block: 'conv_head',
          inputChannels: channels,
          filters: lastFilters,
          kernelSize: 1,
          useBias: false,
          seed,
        }),
        new BatchNorm({ name: 'Conv_1_bn', block: 'conv_head', channels: lastFilters, ...BN }),
        new ReLU6({ name: 'out_relu' }),
      ],
    }),
  );

  // A Backbone like any loaded model: it cuts, exports and reloads the same way.
  const network = backboneFromBlocks({ inputShape, blocks, description });
  return Object.assign(network, { alpha });
}

interface InvertedResidualSpec {
  blockId: number;
  inChannels: number;
  outChannels: number;
  expansion: number;
  stride: number;
  /** Spatial size of the block input. */
  size: [number, number];
  seed: number;
  /** Batch-norm momentum and epsilon. */
  bn: { momentum: number; epsilon: number };
}

/** Keras's `_inverted_res_block`: expand (1x1), depthwise (3x3), project (1x1), optional add. */
function invertedResidual(spec: InvertedResidualSpec): Block {
  const { blockId, inChannels, outChannels, expansion, stride, size, seed } = spec;
  const BN = spec.bn;
  const block = `block_${blockId}`;
  // Keras names the first block's layers `expanded_conv_*` and gives it no expansion layer.
  const prefix = blockId === 0 ? 'expanded_conv_' : `block_${blockId}_`;
  const layers: Layer[] = [];
  let channels = inChannels;
  if (blockId > 0) {
    channels = expansion * inChannels;
    layers.push(
      new Conv2D({
        name: `${prefix}expand`,
        block,
        inputChannels: inChannels,
        filters: channels,
        kernelSize: 1,
        padding: 'same',
        useBias: false,
        seed,
      }),
      new BatchNorm({ name: `${prefix}expand_BN`, block, channels, ...BN }),
      new ReLU6({ name: `${prefix}expand_relu` }),
    );
  }
  if (stride === 2) {
    layers.push(new ZeroPadding2D({ name: `${prefix}pad`, padding: correctPad(size, 3) }));
  }
  layers.push(
    new DepthwiseConv2D({
      name: `${prefix}depthwise`,
      block,
      inputChannels: channels,
      kernelSize: 3,
      strides: stride,
      padding: stride === 1 ? 'same' : 'valid',
      useBias: false,
      seed,
    }),
    new BatchNorm({ name: `${prefix}depthwise_BN`, block, channels, ...BN }),
    new ReLU6({ name: `${prefix}depthwise_relu` }),
    new Conv2D({
      name: `${prefix}project`,
      block,
      inputChannels: channels,
      filters: outChannels,
      kernelSize: 1,
      padding: 'same',
      useBias: false,
      seed,
    }),
    new BatchNorm({ name: `${prefix}project_BN`, block, channels: outChannels, ...BN }),
  );
  const residual = stride === 1 && inChannels === outChannels;
  return new Block({
    name: block,
    stride,
    layers,
    ...(residual ? { shortcut: new Add({ name: `${prefix}add` }) } : {}),
  });
}

/**
 * Keras's `_make_divisible`: round to the nearest multiple of `divisor` (at least `divisor`),
 * then step up once if that lost more than 10%. Plain rounding (`round(v / 8) * 8`) gives 8
 * instead of 16 channels for 32 * 0.35, which no longer matches Keras's weights.
 */
function makeDivisible(value: number, divisor: number): number {
  let rounded = Math.max(divisor, Math.floor(Math.trunc(value + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

/**
 * Keras's `imagenet_utils.correct_pad`: the zero padding that makes a strided, `valid` 3x3
 * convolution cover the input like TensorFlow's `same` (one less row/column before when the
 * side is even).
 */
function correctPad(size: [number, number], kernel: number): [[number, number], [number, number]] {
  const half = Math.floor(kernel / 2);
  const adjust = (n: number) => 1 - (n % 2);
  return [
    [half - adjust(size[0]), half],
    [half - adjust(size[1]), half],
  ];
}

function validate(alpha: number, inputShape: readonly number[], seed: number, where: string): void {
  if (!(Number.isFinite(alpha) && alpha > 0)) {
    throw new GraftError('INVALID_ARGUMENT', `alpha must be a positive number, got ${alpha}`, {
      where,
      hint: 'Keras ships weights for 0.35, 0.5, 0.75, 1.0, 1.3 and 1.4.',
    });
  }
  const [h, w, c] = inputShape;
  const ok =
    inputShape.length === 3 &&
    [h, w, c].every((v) => Number.isInteger(v) && (v as number) >= 1) &&
    (h as number) >= 32 &&
    (w as number) >= 32;
  if (!ok) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `inputShape must be [height, width, channels] with sides >= 32, got [${inputShape.join(', ')}]`,
      {
        where,
      },
    );
  }
  if (!Number.isFinite(seed)) {
    throw new GraftError('INVALID_ARGUMENT', `seed must be a number, got ${seed}`, { where });
  }
}
