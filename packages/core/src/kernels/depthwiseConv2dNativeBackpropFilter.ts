import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import {
  copyIntoPadded,
  depthwiseGeometry,
  imagesPerChunk,
  roundUp4,
} from '../native/depthwiseGeometry';
import { nativeKernels } from '../native/nativeKernels';
import { requireFloat32, requireOperands } from './kernelInputs';

const KERNEL = tf.DepthwiseConv2dNativeBackpropFilter;

/**
 * The filter gradient of a depthwise convolution, which tfjs-backend-wasm 4.22 lacks, in
 * graft's WebAssembly SIMD kernel (native/depthwise_filter_grad.c). A chunk of images at a
 * time, x is copied zero-padded (and, for a channel multiplier > 1, with each channel
 * repeated per multiplier) into the kernel module's memory and dy as is, and the kernel adds
 * the chunk's gradient to an accumulator; the [kh, kw, inC, multiplier] result is copied out.
 */
function depthwiseConv2dNativeBackpropFilter(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const inputs = args.inputs as tf.DepthwiseConv2dNativeBackpropFilterInputs;
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  requireOperands(KERNEL, { x: inputs.x, dy: inputs.dy });
  const x = inputs.x as tf.TensorInfo;
  const dy = inputs.dy as tf.TensorInfo;
  requireFloat32(KERNEL, 'x', x);
  requireFloat32(KERNEL, 'dy', dy);
  const g = depthwiseGeometry(
    KERNEL,
    { x: x.shape, filter: attrs.filterShape, dy: dy.shape },
    attrs,
  );
  const k = nativeKernels(KERNEL);
  const { batch, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = g;
  const d = g.outChannels;
  const paddedImage = g.paddedHeight * g.paddedWidth;
  const taps = g.filterHeight * g.filterWidth;
  const expand = g.multiplier > 1;
  const chunk = imagesPerChunk(
    4 * (paddedImage * d + oh * ow * d + (expand ? paddedImage * c : 0)),
    batch,
  );
  const [xp, dyp, acc, out, staged] = k.scratch(
    [
      chunk * paddedImage * d,
      chunk * oh * ow * d,
      taps * roundUp4(d),
      taps * d,
      expand ? chunk * paddedImage * c : 0,
    ],
    KERNEL,
  ) as [number, number, number, number, number];
  const heap = k.f32;
  const xAll = backend.typedArrayFromHeap(x) as Float32Array;
  const dyAll = backend.typedArrayFromHeap(dy) as Float32Array;
  heap.fill(0, acc / 4, acc / 4 + taps * roundUp4(d));
  for (let b0 = 0; b0 < batch; b0 += chunk) {
    const n = Math.min(chunk, batch - b0);
    const xImages = xAll.subarray(b0 * h * w * c, (b0 + n) * h * w * c);
    copyIntoPadded(xImages, heap, (expand ? staged : xp) / 4, { ...g, batch: n }, c);
    heap.set(dyAll.subarray(b0 * oh * ow * d, (b0 + n) * oh * ow * d), dyp / 4);
    if (expand) k.fns.expand_channels(staged, xp, n * paddedImage, c, g.multiplier);
    k.fns.depthwise_filter_grad(
      xp,
      dyp,
      acc,
      n,
      g.paddedHeight,
      g.paddedWidth,
      oh,
      ow,
      d,
      g.filterHeight,
      g.filterWidth,
      g.strideHeight,
      g.strideWidth,
      g.dilationHeight,
      g.dilationWidth,
    );
  }
  k.fns.compact_channels(acc, out, taps, d);
  // Allocating the output may grow tfjs's heap, so it comes after the last read of x and dy.
  const result = backend.makeOutput([...attrs.filterShape], 'float32');
  (backend.typedArrayFromHeap(result) as Float32Array).set(
    heap.subarray(out / 4, out / 4 + taps * d),
  );
  return result;
}

export const depthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter,
};
