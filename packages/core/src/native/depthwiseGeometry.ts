import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';

/** The attributes both depthwise backward kernels share (tfjs 4.22 names). */
export interface DepthwiseConvAttrs {
  strides: [number, number] | number;
  dilations: [number, number] | number;
  pad: tf.DepthwiseConv2dNativeBackpropFilterAttrs['pad'];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * Everything graft's depthwise backward kernels need to know about one convolution, checked.
 * The kernels index a zero-padded copy of the input (or input gradient) of
 * `paddedHeight x paddedWidth` pixels with the real pixels at (`padTop`, `padLeft`), so they
 * need no bounds checks: every (output pixel, filter tap) pair lands inside it.
 */
export interface DepthwiseGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  multiplier: number;
  /** dy's channel count, inChannels * multiplier; dy channel c*multiplier+m pairs with x's c. */
  outChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
  paddedHeight: number;
  paddedWidth: number;
}

/**
 * Checks the shapes of a depthwise convolution's input, filter and output gradient against
 * each other and its attributes, and computes its geometry with tfjs's own
 * `computeConv2DInfo` (so padding and rounding match tfjs exactly). Throws
 * `GraftError('KERNEL_BAD_INPUT')` naming `kernelName` and the offending shapes or attributes.
 */
export function depthwiseGeometry(
  kernelName: string,
  shapes: { x: readonly number[]; filter: readonly number[]; dy: readonly number[] },
  attrs: DepthwiseConvAttrs,
): DepthwiseGeometry {
  const described = `x [${shapes.x}], filter [${shapes.filter}], dy [${shapes.dy}]`;
  const bad = (what: string, hint?: string): GraftError =>
    new GraftError('KERNEL_BAD_INPUT', `${what}; got ${described}`, {
      where: kernelName,
      ...(hint === undefined ? {} : { hint }),
    });
  for (const [name, shape] of Object.entries(shapes)) {
    if (shape.length !== 4) {
      throw bad(`${name} must be rank 4 (NHWC, or [kh, kw, inC, multiplier] for the filter)`);
    }
    if (!shape.every((n) => Number.isInteger(n) && n > 0)) {
      throw bad(`${name} must have positive integer dimensions`);
    }
  }
  const [batch, inHeight, inWidth, inChannels] = shapes.x as [number, number, number, number];
  const [filterHeight, filterWidth, filterIn, multiplier] = shapes.filter as [
    number,
    number,
    number,
    number,
  ];
  const [dyBatch, dyHeight, dyWidth, dyChannels] = shapes.dy as [number, number, number, number];
  if (filterIn !== inChannels) {
    throw bad(`filter's input channels (${filterIn}) must equal x's channels (${inChannels})`);
  }
  if (dyBatch !== batch) throw bad(`dy's batch (${dyBatch}) must equal x's batch (${batch})`);
  if (dyChannels !== inChannels * multiplier) {
    throw bad(
      `dy's channels (${dyChannels}) must equal inChannels * multiplier (${inChannels} * ${multiplier})`,
    );
  }
  const tuple = (v: [number, number] | number): [number, number] =>
    typeof v === 'number' ? [v, v] : v;
  const [strideHeight, strideWidth] = tuple(attrs.strides);
  const [dilationHeight, dilationWidth] = tuple(attrs.dilations ?? 1);
  for (const [name, v] of [
    ['strides', strideHeight],
    ['strides', strideWidth],
    ['dilations', dilationHeight],
    ['dilations', dilationWidth],
  ] as const) {
    if (!(Number.isInteger(v) && v > 0)) {
      throw bad(`${name} must be positive integers, got ${JSON.stringify(attrs[name])}`);
    }
  }
  let info: tf.backend_util.Conv2DInfo;
  try {
    info = tf.backend_util.computeConv2DInfo(
      shapes.x as [number, number, number, number],
      shapes.filter as [number, number, number, number],
      [strideHeight, strideWidth],
      [dilationHeight, dilationWidth],
      attrs.pad,
      attrs.dimRoundingMode,
      true,
    );
  } catch (cause) {
    throw new GraftError('KERNEL_BAD_INPUT', `Invalid padding ${JSON.stringify(attrs.pad)}`, {
      where: kernelName,
      cause,
    });
  }
  const { top: padTop, left: padLeft } = info.padInfo;
  if (!(padTop >= 0 && padLeft >= 0)) {
    throw bad(`padding must not be negative, got pad ${JSON.stringify(attrs.pad)}`);
  }
  if (dyHeight !== info.outHeight || dyWidth !== info.outWidth) {
    throw bad(
      `dy's spatial size must be the convolution's output size ${info.outHeight}x${info.outWidth}` +
        ` (strides ${strideHeight},${strideWidth}, dilations ${dilationHeight},${dilationWidth},` +
        ` pad ${JSON.stringify(attrs.pad)})`,
    );
  }
  const reach = (out: number, stride: number, filter: number, dilation: number) =>
    (out - 1) * stride + (filter - 1) * dilation + 1;
  return {
    batch,
    inHeight,
    inWidth,
    inChannels,
    multiplier,
    outChannels: dyChannels,
    outHeight: dyHeight,
    outWidth: dyWidth,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
    padTop,
    padLeft,
    paddedHeight: Math.max(
      padTop + inHeight,
      reach(dyHeight, strideHeight, filterHeight, dilationHeight),
    ),
    paddedWidth: Math.max(
      padLeft + inWidth,
      reach(dyWidth, strideWidth, filterWidth, dilationWidth),
    ),
  };
}

/**
 * Working-set budget for one chunk of images: the kernels copy a chunk into scratch and
 * compute on it at once, so the copy is still in L2 when it is read (a whole batch of large
 * feature maps would not be, and the kernels would wait on main memory twice).
 */
const CHUNK_BYTES = 512 * 1024;

/** How many images to process per chunk, given the scratch bytes one image needs. */
export function imagesPerChunk(bytesPerImage: number, batch: number): number {
  return Math.max(1, Math.min(batch, Math.floor(CHUNK_BYTES / bytesPerImage)));
}

/** Channels rounded up to whole 4-float vectors, as the kernels lay out padded buffers. */
export function roundUp4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
