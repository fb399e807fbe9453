import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import { requireFloat4d, shapeText } from './kernelInputs';

/**
 * The attrs tfjs 4.22 passes to Conv2DBackpropFilter / Conv2DBackpropInput. tfjs's conv2d
 * gradient never sends `dilations` (it asserts dilation 1); graft accepts it anyway so that
 * dilated convolutions can be differentiated by callers that run the kernels directly.
 */
export interface Conv2dBackpropAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
}

/** Everything both backward kernels need to know about the forward convolution, NHWC. */
export interface Conv2dBackpropGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  /** Zero rows/columns the forward conv added before the input (bottom/right are implied). */
  padTop: number;
  padLeft: number;
}

function pair(kernel: string, name: string, value: unknown): [number, number] {
  const v = typeof value === 'number' ? [value, value] : value;
  if (
    !Array.isArray(v) ||
    v.length !== 2 ||
    !v.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 1)
  ) {
    throw new GraftError('KERNEL_BAD_INPUT', `${kernel}: ${name} must be positive integers`, {
      where: `${kernel} attrs.${name}=${JSON.stringify(value)}`,
    });
  }
  return [v[0], v[1]];
}

/**
 * Validates the operands of a conv2d backward kernel and computes the forward geometry with
 * tfjs's own `computeConv2DInfo`, so padding ('same' with its extra bottom/right row, 'valid',
 * numbers, explicit lists, rounding modes) means exactly what it means to tfjs.
 *
 * Anything graft's wasm kernels cannot run (NCHW, mismatched shapes, non-float32) is a
 * `GraftError('KERNEL_BAD_INPUT')` that names the kernel and the offending shapes/attrs.
 */
export function conv2dBackpropGeometry(
  kernel: string,
  xShape: readonly number[],
  filterShape: readonly number[],
  dy: tf.TensorInfo,
  attrs: Conv2dBackpropAttrs,
): Conv2dBackpropGeometry {
  const dataFormat = attrs.dataFormat ?? 'NHWC';
  if (dataFormat !== 'NHWC') {
    throw new GraftError(
      'KERNEL_BAD_INPUT',
      `${kernel}: dataFormat ${String(dataFormat)} is not supported on wasm`,
      {
        where: `${kernel} attrs.dataFormat`,
        hint: 'Use NHWC (channels last), the tfjs default.',
      },
    );
  }
  requireFloat4d(kernel, 'dy', dy);
  if (xShape.length !== 4 || filterShape.length !== 4) {
    throw new GraftError(
      'KERNEL_BAD_INPUT',
      `${kernel}: input shape ${shapeText(xShape)} and filter shape ${shapeText(filterShape)} must both be rank 4`,
      { where: kernel },
    );
  }
  const strides = pair(kernel, 'strides', attrs.strides);
  const dilations = pair(kernel, 'dilations', attrs.dilations ?? 1);
  if (xShape[3] !== filterShape[2] || dy.shape[3] !== filterShape[3]) {
    throw new GraftError(
      'KERNEL_BAD_INPUT',
      `${kernel}: channels disagree: input ${shapeText(xShape)}, filter ${shapeText(filterShape)} ` +
        `([kh, kw, in, out]), dy ${shapeText(dy.shape)}`,
      { where: kernel },
    );
  }
  let info: tf.backend_util.Conv2DInfo;
  try {
    info = tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      strides,
      dilations,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
  } catch (cause) {
    throw new GraftError(
      'KERNEL_BAD_INPUT',
      `${kernel}: invalid padding ${JSON.stringify(attrs.pad)} for input ${shapeText(xShape)}`,
      { where: kernel, cause },
    );
  }
  const { top, bottom, left, right } = info.padInfo;
  if (![top, bottom, left, right].every((p) => Number.isInteger(p) && p >= 0)) {
    throw new GraftError(
      'KERNEL_BAD_INPUT',
      `${kernel}: padding must be non-negative integers, got ${JSON.stringify(attrs.pad)}`,
      { where: `${kernel} attrs.pad` },
    );
  }
  const expected = info.outShape;
  if (expected.some((n, i) => n !== dy.shape[i]) || expected.some((n) => n <= 0)) {
    throw new GraftError(
      'KERNEL_BAD_INPUT',
      `${kernel}: dy is ${shapeText(dy.shape)} but the forward conv of ${shapeText(xShape)} with ` +
        `filter ${shapeText(filterShape)}, strides ${shapeText(strides)}, pad ${JSON.stringify(attrs.pad)} ` +
        `gives ${shapeText(expected)}`,
      { where: kernel },
    );
  }
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}
