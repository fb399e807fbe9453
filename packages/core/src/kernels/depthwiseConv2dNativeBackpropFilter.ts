import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import { copyIntoPadded, depthwiseGeometry } from '../native/depthwiseGeometry';
import { nativeKernels } from '../native/nativeKernels';

const KERNEL = tf.DepthwiseConv2dNativeBackpropFilter;

/**
 * The filter gradient of a depthwise convolution, which tfjs-backend-wasm 4.22 lacks, in
 * graft's WebAssembly SIMD kernel (native/depthwise_filter_grad.c). x is copied zero-padded
 * (and, for a channel multiplier > 1, with each channel repeated per multiplier) into the
 * kernel module's memory, dy as is; the [kh, kw, inC, multiplier] result is copied out.
 */
function depthwiseConv2dNativeBackpropFilter(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as tf.DepthwiseConv2dNativeBackpropFilterInputs;
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  if (!x || !dy) throw missingInput(x ? 'dy' : 'x');
  requireFloat32(x, 'x');
  requireFloat32(dy, 'dy');
  const g = depthwiseGeometry(
    KERNEL,
    { x: x.shape, filter: attrs.filterShape, dy: dy.shape },
    attrs,
  );
  const k = nativeKernels(KERNEL);
  const d = g.outChannels;
  const paddedPixels = g.batch * g.paddedHeight * g.paddedWidth;
  const taps = g.filterHeight * g.filterWidth;
  const expand = g.multiplier > 1;
  const [xp, dyp, acc, out, staged] = k.scratch(
    [
      paddedPixels * d,
      dy.shape.reduce((a, b) => a * b, 1),
      taps * (Math.ceil(d / 4) * 4),
      taps * d,
      expand ? paddedPixels * g.inChannels : 0,
    ],
    KERNEL,
  ) as [number, number, number, number, number];
  const heap = k.f32;
  copyIntoPadded(
    backend.typedArrayFromHeap(x) as Float32Array,
    heap,
    (expand ? staged : xp) / 4,
    g,
    g.inChannels,
  );
  heap.set(backend.typedArrayFromHeap(dy) as Float32Array, dyp / 4);
  if (expand) k.fns.expand_channels(staged, xp, paddedPixels, g.inChannels, g.multiplier);
  k.fns.depthwise_filter_grad(
    xp,
    dyp,
    acc,
    out,
    g.batch,
    g.paddedHeight,
    g.paddedWidth,
    g.outHeight,
    g.outWidth,
    d,
    g.filterHeight,
    g.filterWidth,
    g.strideHeight,
    g.strideWidth,
    g.dilationHeight,
    g.dilationWidth,
  );
  const result = backend.makeOutput([...attrs.filterShape], 'float32');
  (backend.typedArrayFromHeap(result) as Float32Array).set(
    k.f32.subarray(out / 4, out / 4 + taps * d),
  );
  return result;
}

function requireFloat32(t: tf.TensorInfo, name: string): void {
  if (t.dtype !== 'float32') {
    throw new GraftError('KERNEL_BAD_INPUT', `${name} must be float32, got ${t.dtype}`, {
      where: KERNEL,
    });
  }
}

function missingInput(name: string): GraftError {
  return new GraftError('KERNEL_BAD_INPUT', `Input ${name} is missing`, { where: KERNEL });
}

export const depthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter,
};
