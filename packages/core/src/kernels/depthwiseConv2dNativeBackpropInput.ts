import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { depthwiseGeometry, imagesPerChunk, roundUp4 } from '../native/depthwiseGeometry';
import { nativeKernels } from '../native/nativeKernels';
import { requireFloat32, requireOperands } from './kernelInputs';

const KERNEL = tf.DepthwiseConv2dNativeBackpropInput;

/**
 * The input gradient of a depthwise convolution, which tfjs-backend-wasm 4.22 lacks, in
 * graft's WebAssembly SIMD kernel (native/depthwise_input_grad.c): a chunk of images at a
 * time, dy is scattered into a zero-padded accumulator, whose unpadded interior (summed over
 * the channel multiplier) is written to dx; dy and dx in place on tfjs's heap where the
 * kernels can reach it (see NativeKernels), else copied in and out.
 */
function depthwiseConv2dNativeBackpropInput(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const inputs = args.inputs as tf.DepthwiseConv2dNativeBackpropInputInputs;
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  requireOperands(KERNEL, { dy: inputs.dy, filter: inputs.filter });
  const dy = inputs.dy as tf.TensorInfo;
  const filter = inputs.filter as tf.TensorInfo;
  requireFloat32(KERNEL, 'dy', dy);
  requireFloat32(KERNEL, 'filter', filter);
  const g = depthwiseGeometry(
    KERNEL,
    { x: attrs.inputShape, filter: filter.shape, dy: dy.shape },
    attrs,
  );
  const k = nativeKernels(KERNEL, backend);
  const { batch, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = g;
  const d = g.outChannels;
  const dp = roundUp4(d);
  const taps = g.filterHeight * g.filterWidth;
  const paddedImage = g.paddedHeight * g.paddedWidth;
  // Zero-copy: dy and the filter are read and dx written in place; the padded accumulator
  // dxp is scratch either way. dy is still staged when its channels are not whole 4-float
  // vectors, because C reads up to 3 floats past the last pixel, which in tfjs's heap could
  // be past the end of the memory. Own memory stages dy and dx a chunk of images at a time.
  const stageDy = !k.zeroCopy || d % 4 !== 0;
  const chunk = imagesPerChunk(4 * (oh * ow * d + paddedImage * dp + h * w * c), batch);
  const result = backend.makeOutput([...attrs.inputShape], 'float32');
  const [dyp, filterCopy, wpad, dxp, dx] = k.scratch(
    [
      stageDy ? chunk * oh * ow * d : 0,
      k.zeroCopy ? 0 : taps * d,
      taps * dp,
      chunk * paddedImage * dp,
      k.zeroCopy ? 0 : chunk * h * w * c,
    ],
    KERNEL,
  ) as [number, number, number, number, number];
  const own = (address: number) => (k.zeroCopy ? undefined : address);
  k.fns.pad_channels(k.input(backend, filter, { staging: own(filterCopy) }), wpad, taps, d);
  for (let b0 = 0; b0 < batch; b0 += chunk) {
    const n = Math.min(chunk, batch - b0);
    const dyIn = k.input(backend, dy, {
      staging: stageDy ? dyp : undefined,
      first: b0 * oh * ow * d,
      count: n * oh * ow * d,
    });
    k.fns.depthwise_input_grad(
      dyIn,
      wpad,
      dxp,
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
    const dxAt = { staging: own(dx), first: b0 * h * w * c, count: n * h * w * c };
    k.fns.depthwise_input_grad_extract(
      dxp,
      k.output(backend, result, dxAt),
      n,
      h,
      w,
      g.paddedHeight,
      g.paddedWidth,
      g.padTop,
      g.padLeft,
      c,
      g.multiplier,
    );
    k.flush(backend, result, dxAt);
  }
  return result;
}

export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput,
};
