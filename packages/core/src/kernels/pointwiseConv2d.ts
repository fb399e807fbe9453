import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import { zeroCopyNativeKernels } from '../native/nativeKernels';
import { stockKernel } from './stockKernels';

/**
 * `Conv2D` on wasm: 1x1 convolutions that read no padding and stride 1 (34 of MobileNetV2's
 * 35 convolutions) run as graft's native product of the NHWC rows and the filter as it is
 * (native/pointwise_conv.c); every other convolution goes to the stock kernel (XNNPACK).
 *
 * Why: XNNPACK multiplies by a packed copy of the filter, which tfjs builds (after a
 * transpose) the first time it sees a filter tensor. In training every step makes new weight
 * tensors, so every call packs: ~50 µs per call even for a 56x336 filter, 1.5 ms of a
 * MobileNetV2-0.35 batch-8 step's 6 ms of Conv2D. The native kernel reads the filter unpacked
 * at the same speed as XNNPACK's product with a packed, cached filter (bench/kernels.mjs).
 *
 * It runs where graft's kernels share tfjs's heap (zero-copy mode, Node's default); in
 * tfjs's threaded build (own-memory mode) XNNPACK keeps every convolution.
 */
function conv2d(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x, filter } = args.inputs as { x?: tf.TensorInfo; filter?: tf.TensorInfo };
  const native = zeroCopyNativeKernels(args.backend);
  if (!native || !x || !filter || !isPointwise(x, filter, args.attrs as ConvAttrs)) {
    return stockConv2d(args);
  }
  const backend = args.backend as BackendWasm;
  const [batch, height, width, inChannels] = x.shape as [number, number, number, number];
  const outChannels = filter.shape[3] as number;
  const out = backend.makeOutput([batch, height, width, outChannels], 'float32');
  const rows = batch * height * width;
  if (rows === 0 || outChannels === 0) return out;
  if (inChannels === 0) {
    backend.typedArrayFromHeap(out).fill(0);
    return out;
  }
  native.fns.pointwise_matmul(
    native.input(backend, x),
    native.input(backend, filter),
    native.output(backend, out),
    rows,
    inChannels,
    outChannels,
  );
  return out;
}

interface ConvAttrs {
  strides?: number | number[];
  pad?: unknown;
  dataFormat?: string;
}

/**
 * A float32 NHWC convolution with a [1, 1, cin, cout] filter, stride 1 and no padding: the
 * output is then x's rows times the filter. Dilation does not matter for a 1x1 filter.
 * Anything malformed (ranks, channel counts) is left to the stock kernel, which reports it.
 */
function isPointwise(x: tf.TensorInfo, filter: tf.TensorInfo, attrs: ConvAttrs): boolean {
  if (x.dtype !== 'float32' || filter.dtype !== 'float32') return false;
  if (x.shape.length !== 4 || filter.shape.length !== 4) return false;
  if (filter.shape[0] !== 1 || filter.shape[1] !== 1 || filter.shape[2] !== x.shape[3]) {
    return false;
  }
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return false;
  const strides = attrs.strides ?? 1;
  if (!(Array.isArray(strides) ? strides.every((s) => s === 1) : strides === 1)) return false;
  return noPadding(attrs.pad);
}

/** 'valid', 'same' (no padding for a 1x1 filter at stride 1), 0, or explicit zeros. */
function noPadding(pad: unknown): boolean {
  if (pad === 'valid' || pad === 'same' || pad === 0) return true;
  return (
    Array.isArray(pad) &&
    pad.every((side) => Array.isArray(side) && side.every((amount) => amount === 0))
  );
}

function stockConv2d(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const stock = stockKernel(tf.Conv2D, 'wasm');
  if (!stock) {
    throw new GraftError('BACKEND_INIT_FAILED', 'The wasm backend has no stock Conv2D kernel', {
      where: 'Conv2D (wasm)',
      hint: 'Import @tensorflow/tfjs-backend-wasm (initBackend does) before running graft kernels.',
    });
  }
  return stock(args) as tf.TensorInfo;
}

export const pointwiseConv2dConfig: tf.KernelConfig = {
  kernelName: tf.Conv2D,
  backendName: 'wasm',
  kernelFunc: conv2d as unknown as tf.KernelFunc,
};
