import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { depthwiseGeometry, imagesPerChunk, roundUp4 } from '../native/depthwiseGeometry';
import { nativeKernels } from '../native/nativeKernels';
import { requireFloat32, requireOperands } from './kernelInputs';

const KERNEL = tf.DepthwiseConv2dNativeBackpropFilter;

/**
 * The filter gradient of a depthwise convolution, which tfjs-backend-wasm 4.22 lacks, in
 * graft's WebAssembly SIMD kernel (native/depthwise_filter_grad.c). A chunk of images at a
 * time, x is copied zero-padded (and, for a channel multiplier > 1, with each channel
 * repeated per multiplier) into scratch, and the kernel adds the chunk's gradient (with dy
 * read in place where it can be, see NativeKernels) to an accumulator, from which the
 * [kh, kw, inC, multiplier] result is written out.
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
  const k = nativeKernels(KERNEL, backend);
  const { batch, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = g;
  const d = g.outChannels;
  const paddedImage = g.paddedHeight * g.paddedWidth;
  const taps = g.filterHeight * g.filterWidth;
  const expand = g.multiplier > 1;
  // x is always copied, zero-padded, into scratch (by C, pad_images) a chunk of images at a
  // time, so that it is still in cache when read. Zero-copy: pad_images reads x in place, dy
  // is read in place (unless its channels are not whole 4-float vectors: C reads up to 3
  // floats past the last pixel, which in tfjs's heap could be past the end of the memory)
  // and the result is written in place. Own memory stages x, dy and the result.
  const stageDy = !k.zeroCopy || d % 4 !== 0;
  const chunk = imagesPerChunk(
    4 * (paddedImage * d + oh * ow * d + (expand ? paddedImage * c : 0) + h * w * c),
    batch,
  );
  const result = backend.makeOutput([...attrs.filterShape], 'float32');
  const [xp, dyp, acc, out, padded, xs] = k.scratch(
    [
      chunk * paddedImage * d,
      stageDy ? chunk * oh * ow * d : 0,
      taps * roundUp4(d),
      k.zeroCopy ? 0 : taps * d,
      expand ? chunk * paddedImage * c : 0,
      k.zeroCopy ? 0 : chunk * h * w * c,
    ],
    KERNEL,
  ) as [number, number, number, number, number, number];
  const own = (address: number) => (k.zeroCopy ? undefined : address);
  k.f32.fill(0, acc / 4, acc / 4 + taps * roundUp4(d));
  for (let b0 = 0; b0 < batch; b0 += chunk) {
    const n = Math.min(chunk, batch - b0);
    const xIn = k.input(backend, x, {
      staging: own(xs),
      first: b0 * h * w * c,
      count: n * h * w * c,
    });
    const dyIn = k.input(backend, dy, {
      staging: stageDy ? dyp : undefined,
      first: b0 * oh * ow * d,
      count: n * oh * ow * d,
    });
    k.fns.pad_images(
      xIn,
      expand ? padded : xp,
      n,
      h,
      w,
      c,
      g.paddedHeight,
      g.paddedWidth,
      g.padTop,
      g.padLeft,
    );
    if (expand) k.fns.expand_channels(padded, xp, n * paddedImage, c, g.multiplier);
    k.fns.depthwise_filter_grad(
      xp,
      dyIn,
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
  const outAt = { staging: own(out) };
  k.fns.compact_channels(acc, k.output(backend, result, outAt), taps, d);
  k.flush(backend, result, outAt);
  return result;
}

export const depthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter,
};
