import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { depthwiseGeometry, imagesPerChunk, roundUp4 } from '../native/depthwiseGeometry';
import { nativeKernels } from '../native/nativeKernels';
import { requireFloat32, requireOperands } from './kernelInputs';

const KERNEL = tf.DepthwiseConv2dNativeBackpropInput;

/**
 * The input gradient of a depthwise convolution, which tfjs-backend-wasm 4.22 lacks, in
 * graft's WebAssembly SIMD kernel (native/depthwise_input_grad.c): a chunk of images at a
 * time, dy is copied into the kernel module's memory and scattered into a zero-padded
 * accumulator, whose unpadded interior (summed over the channel multiplier) is copied out.
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
  const k = nativeKernels(KERNEL);
  const { batch, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = g;
  const d = g.outChannels;
  const dp = roundUp4(d);
  const taps = g.filterHeight * g.filterWidth;
  const paddedImage = g.paddedHeight * g.paddedWidth;
  const chunk = imagesPerChunk(4 * (oh * ow * d + paddedImage * dp + h * w * c), batch);
  const [dyp, filterCopy, wpad, dxp, dx] = k.scratch(
    [chunk * oh * ow * d, taps * d, taps * dp, chunk * paddedImage * dp, chunk * h * w * c],
    KERNEL,
  ) as [number, number, number, number, number];
  // The output is allocated first (it may grow tfjs's heap); the views are taken after it.
  const result = backend.makeOutput([...attrs.inputShape], 'float32');
  const heap = k.f32;
  const dyAll = backend.typedArrayFromHeap(dy) as Float32Array;
  const dxAll = backend.typedArrayFromHeap(result) as Float32Array;
  heap.set(backend.typedArrayFromHeap(filter) as Float32Array, filterCopy / 4);
  k.fns.pad_channels(filterCopy, wpad, taps, d);
  for (let b0 = 0; b0 < batch; b0 += chunk) {
    const n = Math.min(chunk, batch - b0);
    heap.set(dyAll.subarray(b0 * oh * ow * d, (b0 + n) * oh * ow * d), dyp / 4);
    k.fns.depthwise_input_grad(
      dyp,
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
    k.fns.depthwise_input_grad_extract(
      dxp,
      dx,
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
    dxAll.set(heap.subarray(dx / 4, dx / 4 + n * h * w * c), b0 * h * w * c);
  }
  return result;
}

export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput,
};
