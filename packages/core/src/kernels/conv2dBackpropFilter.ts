import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { zeroCopyNativeKernels } from '../native/nativeKernels';
import {
  type Conv2dBackpropAttrs,
  type Conv2dBackpropGeometry,
  conv2dBackpropGeometry,
} from './conv2dBackpropGeometry';
import { requireFloat4d, requireOperands } from './kernelInputs';
import { WasmScratch } from './wasmOps';

/**
 * dW[i, j, ci, co] = sum over n, oh, ow of
 *   xPadded[n, oh*sh + i*dh, ow*sw + j*dw, ci] * dy[n, oh, ow, co]
 *
 * i.e. a correlation of x with dy over the batch and output grid. It runs as one forward
 * XNNPACK Conv2D on rearranged operands: x' = x as [Cin, H, W, N] (batch Cin, channels N) is
 * convolved with dy' = dy as [Ho, Wo, N, Cout] (a kernel of Ho x Wo taps) at dilation =
 * the forward stride and stride = the forward dilation; the result [Cin, kh, kw, Cout] is
 * transposed to [kh, kw, Cin, Cout].
 *
 * Measured against im2col + one matmul (cols [kh*kw*Cin, pixels] x dy), ms min of 12:
 * [16,96,96,3] 3x3 s2 ->16: 6.6 vs 7.5; [16,24,24,32] 3x3 ->32: 10.5 vs 13.6;
 * [16,6,6,64] 3x3 ->64: 2.3 vs 5.2; [1,224,224,3] 7x7 s2 ->8: 2.1 vs 7.6. im2col only won
 * for tiny batches at large images ([2,112,112,8] ->16: 8.8 vs 9.8), not enough to keep.
 */
function filterGradByConv(
  s: WasmScratch,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: Conv2dBackpropGeometry,
): tf.TensorInfo {
  const rows = spanAfterInput(
    g.filterHeight,
    g.dilationHeight,
    g.outHeight,
    g.strideHeight,
    g.inHeight,
    g.padTop,
  );
  const cols = spanAfterInput(
    g.filterWidth,
    g.dilationWidth,
    g.outWidth,
    g.strideWidth,
    g.inWidth,
    g.padLeft,
  );
  // Rows/columns of x past the last one the forward conv read do not contribute: cut off.
  let xs = x;
  if (rows.keep < g.inHeight || cols.keep < g.inWidth) {
    xs = s.slice(x, [0, 0, 0, 0], [g.batch, rows.keep, cols.keep, g.inChannels]);
  }
  const xt = s.transpose(xs, [3, 1, 2, 0]);
  const dyt = s.transpose(dy, [1, 2, 0, 3]);
  const out = s.conv2d(xt, dyt, {
    strides: [g.dilationHeight, g.dilationWidth],
    dilations: [g.strideHeight, g.strideWidth],
    pads: { top: g.padTop, bottom: rows.padAfter, left: g.padLeft, right: cols.padAfter },
  });
  return s.transpose(out, [1, 2, 0, 3]);
}

/**
 * How much of the input (along one axis) the forward conv read and how much zero padding
 * after it the backward conv needs so that its output has exactly k taps.
 */
function spanAfterInput(
  k: number,
  dilation: number,
  outSize: number,
  stride: number,
  inSize: number,
  padBefore: number,
): { keep: number; padAfter: number } {
  // Last padded index read: (outSize-1)*stride + (k-1)*dilation; in input coordinates minus padBefore.
  const end = (outSize - 1) * stride + (k - 1) * dilation + 1 - padBefore;
  return end >= inSize ? { keep: inSize, padAfter: end - inSize } : { keep: end, padAfter: 0 };
}

/**
 * 1x1 kernel without padding: dW = xs^T dy, where xs is x (or, for stride s, every s-th row
 * and column of it) as [pixels, Cin] and dy is [pixels, Cout].
 *
 * Where graft's kernels share tfjs's heap (Node's default), native/pointwise_filter_grad.c
 * computes it reading x and dy in place. Otherwise it is one XNNPACK matmul: that takes
 * [M, K] x [K, N] and packs the [K, N] operand (~5 ns per element here, with the transpose
 * tfjs asks for), and the other operand has to be transposed by us, so the narrower of x / dy
 * is packed and the wider one transposed. The transposes and the packing are whole passes
 * over activations that the native kernel does not make.
 */
function filterGradPointwise(
  s: WasmScratch,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: Conv2dBackpropGeometry,
): tf.TensorInfo {
  const npix = g.batch * g.outHeight * g.outWidth;
  let xs = x;
  if (
    g.strideHeight > 1 ||
    g.strideWidth > 1 ||
    g.outHeight !== g.inHeight ||
    g.outWidth !== g.inWidth
  ) {
    xs = s.slice(
      x,
      [0, 0, 0, 0],
      [g.batch, g.outHeight, g.outWidth, g.inChannels],
      [1, g.strideHeight, g.strideWidth, 1],
    );
  }
  const native = zeroCopyNativeKernels(s.backend);
  if (native) {
    const out = s.empty([1, 1, g.inChannels, g.outChannels]);
    native.fns.pointwise_filter_grad(
      native.input(s.backend, xs),
      native.input(s.backend, dy),
      native.output(s.backend, out),
      npix,
      g.inChannels,
      g.outChannels,
    );
    return out;
  }
  const x2 = s.reshape(xs, [npix, g.inChannels]);
  const dy2 = s.reshape(dy, [npix, g.outChannels]);
  // matMul caches XNNPACK's packed `b` under its data id without the shape, so `b` must be
  // a fresh copy rather than the caller's tensor.
  if (g.outChannels >= g.inChannels) {
    const dWt = s.matMul(s.transpose(dy2, [1, 0]), s.copy(x2));
    return s.reshape(s.transpose(dWt, [1, 0]), [1, 1, g.inChannels, g.outChannels]);
  }
  return s.reshape(s.matMul(s.transpose(x2, [1, 0]), s.copy(dy2)), [
    1,
    1,
    g.inChannels,
    g.outChannels,
  ]);
}

/**
 * Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm 4.22 has none). Inputs
 * {x, dy}; attrs {strides, pad, dataFormat, dimRoundingMode, filterShape} (+ optional
 * dilations). Measured here, MobileNetV2-0.35 96x96 batch-16 shapes, this kernel vs the
 * forward Conv2D of the same layer (ms, median):
 *   stem 3x3 s2 [16,96,96,3]->16 (conv route): 7.3 vs 3.9
 *   1x1 [16,48,48,16]->48 (matmul route): 8.0 vs 7.9 (the conv route took 21)
 *   1x1 [16,6,6,112]->1280 (matmul route): 6.9 vs 9.9 (conv route 14.8)
 *   3x3 s1 [16,24,24,32]->32 (conv route): 10.7 vs 7.0 (per-tap matmuls: 27)
 * The 1x1 lines are the matmul route, which own-memory mode (tfjs's threaded build) still
 * takes. In zero-copy mode the native kernel does those shapes at 32-35 GFLOP/s (median,
 * bench/kernels.mjs), against 8-25 for the matmul route and 26-30 for XNNPACK's forward conv.
 */
function conv2dBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { x, dy } = args.inputs as { x?: tf.TensorInfo; dy?: tf.TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as Conv2dBackpropAttrs & { filterShape?: number[] };
  requireOperands(tf.Conv2DBackpropFilter, { x, dy });
  const g = conv2dBackpropGeometry(
    tf.Conv2DBackpropFilter,
    x!.shape,
    attrs.filterShape ?? [],
    dy!,
    attrs,
  );
  requireFloat4d(tf.Conv2DBackpropFilter, 'x', x!);
  const s = new WasmScratch(args.backend as BackendWasm);
  try {
    return s.release(
      usesPointwise(g) ? filterGradPointwise(s, x!, dy!, g) : filterGradByConv(s, x!, dy!, g),
    );
  } finally {
    s.dispose();
  }
}

/** 1x1 kernels whose windows all lie inside x (no padding read) take the matmul route. */
function usesPointwise(g: Conv2dBackpropGeometry): boolean {
  if (g.filterHeight !== 1 || g.filterWidth !== 1 || g.padTop !== 0 || g.padLeft !== 0)
    return false;
  return (
    (g.outHeight - 1) * g.strideHeight < g.inHeight && (g.outWidth - 1) * g.strideWidth < g.inWidth
  );
}

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
};
