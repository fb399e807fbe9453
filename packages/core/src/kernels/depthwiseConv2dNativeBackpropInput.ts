import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import { depthwiseGeometry } from '../native/depthwiseGeometry';
import { nativeKernels } from '../native/nativeKernels';

const KERNEL = tf.DepthwiseConv2dNativeBackpropInput;

/**
 * The input gradient of a depthwise convolution, which tfjs-backend-wasm 4.22 lacks, in
 * graft's WebAssembly SIMD kernel (native/depthwise_input_grad.c): dy and the filter are
 * copied into the kernel module's memory, scattered into a zero-padded accumulator, and the
 * unpadded interior (summed over the channel multiplier) is copied out.
 */
function depthwiseConv2dNativeBackpropInput(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as tf.DepthwiseConv2dNativeBackpropInputInputs;
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  if (!dy || !filter) throw missingInput(dy ? 'filter' : 'dy');
  requireFloat32(dy, 'dy');
  requireFloat32(filter, 'filter');
  const g = depthwiseGeometry(
    KERNEL,
    { x: attrs.inputShape, filter: filter.shape, dy: dy.shape },
    attrs,
  );
  const k = nativeKernels(KERNEL);
  const d = g.outChannels;
  const dp = Math.ceil(d / 4) * 4;
  const taps = g.filterHeight * g.filterWidth;
  const dxSize = g.batch * g.inHeight * g.inWidth * g.inChannels;
  const [dyp, w, wpad, dxp, dx] = k.scratch(
    [
      g.batch * g.outHeight * g.outWidth * d,
      taps * d,
      taps * dp,
      g.batch * g.paddedHeight * g.paddedWidth * dp,
      dxSize,
    ],
    KERNEL,
  ) as [number, number, number, number, number];
  const heap = k.f32;
  heap.set(backend.typedArrayFromHeap(dy) as Float32Array, dyp / 4);
  heap.set(backend.typedArrayFromHeap(filter) as Float32Array, w / 4);
  k.fns.depthwise_input_grad(
    dyp,
    w,
    wpad,
    dxp,
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
  k.fns.depthwise_input_grad_extract(
    dxp,
    dx,
    g.batch,
    g.inHeight,
    g.inWidth,
    g.paddedHeight,
    g.paddedWidth,
    g.padTop,
    g.padLeft,
    g.inChannels,
    g.multiplier,
  );
  const result = backend.makeOutput([...attrs.inputShape], 'float32');
  (backend.typedArrayFromHeap(result) as Float32Array).set(k.f32.subarray(dx / 4, dx / 4 + dxSize));
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

export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput,
};
