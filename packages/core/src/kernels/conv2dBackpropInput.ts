import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { zeroCopyNativeKernels } from '../native/nativeKernels';
import {
  type Conv2dBackpropAttrs,
  type Conv2dBackpropGeometry,
  conv2dBackpropGeometry,
} from './conv2dBackpropGeometry';
import { requireFloat4d, requireOperands } from './kernelInputs';
import { type SpatialPads, WasmScratch } from './wasmOps';

/**
 * One output phase along one spatial axis: the input positions t (in padded coordinates)
 * with t mod stride = r receive gradient only from the filter taps i with
 * i * dilation mod stride = r, so each phase is a plain stride-1 correlation of dy with
 * those taps, reversed.
 */
export interface AxisPhase {
  /** Filter indices along the axis, in the order the correlation applies them. */
  taps: number[];
  /** Spacing of those taps in dy rows: dilation / gcd(dilation, stride). */
  dilation: number;
  /** Zero rows before/after dy (negative: rows of dy to drop). */
  padBefore: number;
  padAfter: number;
}

export interface AxisPlan {
  /** One entry per residue r = 0 .. stride-1; null when no tap lands on that residue. */
  phases: Array<AxisPhase | null>;
  /** Rows each phase produces; phase r's row q lands at interleaved row q * stride + r. */
  count: number;
  /** First interleaved row that is input row 0. */
  cropStart: number;
}

/**
 * Splits the transposed convolution along one axis into `stride` phases.
 *
 * Forward: y[o] = sum_i xPadded[o*s + i*d] w[i], xPadded[t] = x[t - pad]. So for t = q*s + r,
 * dx[t - pad] = sum over taps i with (i*d) mod s = r of dy[q - e_i] w[i], e_i = (i*d - r)/s.
 * Rows t cover [pad, pad + inSize); phase rows q run from floor(pad/s) so that for stride 1
 * the single phase produces exactly the input rows (no crop, no interleave).
 */
export function planAxis(
  k: number,
  stride: number,
  dilation: number,
  pad: number,
  inSize: number,
  outSize: number,
): AxisPlan {
  const q0 = Math.floor(pad / stride);
  const count = Math.ceil((pad + inSize) / stride) - q0;
  const spacing = dilation / gcd(dilation, stride);
  const phases: Array<AxisPhase | null> = [];
  for (let r = 0; r < stride; r++) {
    const taps: number[] = [];
    for (let i = 0; i < k; i++) if ((i * dilation) % stride === r) taps.push(i);
    if (taps.length === 0) {
      phases.push(null);
      continue;
    }
    const eFirst = (taps[0]! * dilation - r) / stride;
    const eLast = (taps[taps.length - 1]! * dilation - r) / stride;
    phases.push({
      taps: taps.reverse(),
      dilation: taps.length > 1 ? spacing : 1,
      padBefore: eLast - q0,
      padAfter: count - outSize + q0 - eFirst,
    });
  }
  return { phases, count, cropStart: pad - q0 * stride };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * dx = the transposed convolution of dy, computed as stride_h x stride_w ordinary XNNPACK
 * convolutions (one per output phase) instead of one convolution over a zero-inserted dy:
 * no multiplications by inserted zeros, and every phase is a dense stride-1 conv. For
 * stride 1 this is a single conv of dy with the filter rotated 180 degrees and its channels
 * swapped, padded so that it yields exactly the input grid.
 */
function inputGradByPhases(
  s: WasmScratch,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: Conv2dBackpropGeometry,
): tf.TensorInfo {
  const rows = planAxis(
    g.filterHeight,
    g.strideHeight,
    g.dilationHeight,
    g.padTop,
    g.inHeight,
    g.outHeight,
  );
  const cols = planAxis(
    g.filterWidth,
    g.strideWidth,
    g.dilationWidth,
    g.padLeft,
    g.inWidth,
    g.outWidth,
  );
  // [kh, kw, Cout, Cin]: forward outputs become backward inputs.
  const swapped = s.transpose(filter, [0, 1, 3, 2]);
  const phaseShape = [g.batch, rows.count, cols.count, g.inChannels];
  const outputs: tf.TensorInfo[] = [];
  for (const rowPhase of rows.phases) {
    for (const colPhase of cols.phases) {
      outputs.push(
        rowPhase && colPhase
          ? phaseConv(s, dy, swapped, rowPhase, colPhase, g, phaseShape)
          : s.zeros(phaseShape),
      );
    }
  }
  const sh = g.strideHeight;
  const sw = g.strideWidth;
  let grid: tf.TensorInfo;
  if (outputs.length === 1) {
    grid = outputs[0]!;
  } else {
    // Interleave: [sh, sw, N*Qh, Qw*C] -> [N*Qh, sh, sw, Qw*C] -> [N*Qh*sh, Qw, sw, C].
    const size = outputs[0]!.shape.reduce((a, b) => a * b, 1);
    const stacked = s.concat(
      outputs.map((o) => s.reshape(o, [1, size])),
      0,
    );
    const nq = g.batch * rows.count;
    const a = s.transpose(
      s.reshape(stacked, [sh, sw, nq, cols.count * g.inChannels]),
      [2, 0, 1, 3],
    );
    const b = s.transpose(s.reshape(a, [nq * sh, sw, cols.count, g.inChannels]), [0, 2, 1, 3]);
    grid = s.reshape(b, [g.batch, rows.count * sh, cols.count * sw, g.inChannels]);
  }
  const [, gh, gw] = grid.shape as [number, number, number, number];
  if (rows.cropStart === 0 && cols.cropStart === 0 && gh === g.inHeight && gw === g.inWidth)
    return grid;
  return s.slice(
    grid,
    [0, rows.cropStart, cols.cropStart, 0],
    [g.batch, g.inHeight, g.inWidth, g.inChannels],
  );
}

/** The stride-1 conv of dy with one phase's taps, giving [N, rows.count, cols.count, Cin]. */
function phaseConv(
  s: WasmScratch,
  dy: tf.TensorInfo,
  swapped: tf.TensorInfo,
  rowPhase: AxisPhase,
  colPhase: AxisPhase,
  g: Conv2dBackpropGeometry,
  outShape: number[],
): tf.TensorInfo {
  // Negative padding means those dy rows only reach input rows outside this output window.
  const dropTop = Math.max(0, -rowPhase.padBefore);
  const dropBottom = Math.max(0, -rowPhase.padAfter);
  const dropLeft = Math.max(0, -colPhase.padBefore);
  const dropRight = Math.max(0, -colPhase.padAfter);
  const keepRows = g.outHeight - dropTop - dropBottom;
  const keepCols = g.outWidth - dropLeft - dropRight;
  if (keepRows <= 0 || keepCols <= 0) return s.zeros(outShape);
  let input = dy;
  if (keepRows < g.outHeight || keepCols < g.outWidth) {
    input = s.slice(dy, [0, dropTop, dropLeft, 0], [g.batch, keepRows, keepCols, g.outChannels]);
  }
  const pads: SpatialPads = {
    top: Math.max(0, rowPhase.padBefore),
    bottom: Math.max(0, rowPhase.padAfter),
    left: Math.max(0, colPhase.padBefore),
    right: Math.max(0, colPhase.padAfter),
  };
  const phaseFilter = selectTaps(s, swapped, rowPhase.taps, colPhase.taps, g);
  return s.conv2d(input, phaseFilter, {
    strides: [1, 1],
    dilations: [rowPhase.dilation, colPhase.dilation],
    pads,
  });
}

/** [taps.length, colTaps.length, Cout, Cin] from the [kh, kw, Cout, Cin] filter. */
function selectTaps(
  s: WasmScratch,
  swapped: tf.TensorInfo,
  rowTaps: number[],
  colTaps: number[],
  g: Conv2dBackpropGeometry,
): tf.TensorInfo {
  if (g.filterHeight === 1 && g.filterWidth === 1) return swapped;
  const block = g.outChannels * g.inChannels;
  const out = s.empty([rowTaps.length, colTaps.length, g.outChannels, g.inChannels]);
  const src = s.view(swapped);
  const dst = s.view(out);
  let o = 0;
  for (const i of rowTaps) {
    for (const j of colTaps) {
      const at = (i * g.filterWidth + j) * block;
      dst.set(src.subarray(at, at + block), o);
      o += block;
    }
  }
  return out;
}

/**
 * 1x1, stride 1, no padding: dx = dy W^T. In zero-copy mode, graft's native product
 * (native/pointwise_conv.c) of dy's rows and the filter transposed into scratch: no XNNPACK
 * operator, so nothing is packed (XNNPACK packs the new filter of every training step again:
 * ~2 ms of a MobileNetV2-0.35 batch-8 step's 7.7 ms of this kernel). Otherwise, for large
 * filters, one XNNPACK matmul: the same speed as the 1x1 phase conv for small filters, but
 * it skips the filter transpose tfjs's Conv2D does before packing: [16,3,3,1280] x
 * [1280,320]: 5.6 vs 9.0 ms; [16,6,6,1280] x [1280,112]: 6.0 vs 6.5 ms (forward conv with a
 * cached filter: 3.8 and 5.3 ms).
 */
function inputGradPointwise(
  s: WasmScratch,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: Conv2dBackpropGeometry,
): tf.TensorInfo {
  const npix = g.batch * g.inHeight * g.inWidth;
  const native = zeroCopyNativeKernels(s.backend);
  if (native) {
    const dx = s.empty([g.batch, g.inHeight, g.inWidth, g.inChannels]);
    if (npix === 0 || g.inChannels === 0) return dx;
    if (g.outChannels === 0) {
      s.view(dx).fill(0);
      return dx;
    }
    const [filterT] = native.scratch([g.inChannels * g.outChannels], 'Conv2DBackpropInput');
    native.fns.transpose_matrix(
      native.input(s.backend, filter),
      filterT!,
      g.inChannels,
      g.outChannels,
    );
    native.fns.pointwise_matmul(
      native.input(s.backend, dy),
      filterT!,
      native.output(s.backend, dx),
      npix,
      g.outChannels,
      g.inChannels,
    );
    return dx;
  }
  // The transposed filter is a fresh intermediate, as matMul's `b` must be.
  const wt = s.transpose(s.reshape(filter, [g.inChannels, g.outChannels]), [1, 0]);
  const dx = s.matMul(s.reshape(dy, [npix, g.outChannels]), wt);
  return s.reshape(dx, [g.batch, g.inHeight, g.inWidth, g.inChannels]);
}

/** Filters at least this large (Cin * Cout) take the XNNPACK matmul of
 * {@link inputGradPointwise} when 1x1; in zero-copy mode every 1x1 filter takes the native
 * product. */
const POINTWISE_MATMUL_MIN_FILTER = 32768;

function usesPointwise(g: Conv2dBackpropGeometry, native: boolean): boolean {
  return (
    g.filterHeight === 1 &&
    g.filterWidth === 1 &&
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    g.padTop === 0 &&
    g.padLeft === 0 &&
    g.outHeight === g.inHeight &&
    g.outWidth === g.inWidth &&
    (native || g.inChannels * g.outChannels >= POINTWISE_MATMUL_MIN_FILTER)
  );
}

/**
 * Conv2DBackpropInput for the wasm backend, replacing the stock one (a scalar loop at ~2
 * GFLOP/s). Inputs {dy, filter}; attrs {inputShape, strides, pad, dataFormat,
 * dimRoundingMode} (+ optional dilations). Measured here (ms, median, kernelFunc only),
 * MobileNetV2-0.35 96x96 batch-16 shapes, graft vs stock vs the forward Conv2D:
 *   1x1 [16,24,24,48]->16: 0.65 vs 10.8 vs 0.53
 *   1x1 [16,3,3,320]->1280: 6.4 vs 49.9 vs 4.1
 *   3x3 s1 [16,24,24,32]->32: 6.2 vs 70 vs 5.7
 *   3x3 s2 [16,24,24,32]->64: 3.9 vs 35 vs 3.0 (one conv over a zero-inserted dy: 12.2)
 *   stem 3x3 s2 [16,96,96,3]->16: 6.8 vs 18.7 (zero-inserted: 16.3)
 */
function conv2dBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy?: tf.TensorInfo; filter?: tf.TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as Conv2dBackpropAttrs & { inputShape?: number[] };
  requireOperands(tf.Conv2DBackpropInput, { dy, filter });
  requireFloat4d(tf.Conv2DBackpropInput, 'filter', filter!);
  const g = conv2dBackpropGeometry(
    tf.Conv2DBackpropInput,
    attrs.inputShape ?? [],
    filter!.shape,
    dy!,
    attrs,
  );
  const s = new WasmScratch(args.backend as BackendWasm);
  try {
    const dx = usesPointwise(g, zeroCopyNativeKernels(s.backend) !== undefined)
      ? inputGradPointwise(s, dy!, filter!, g)
      : inputGradByPhases(s, dy!, filter!, g);
    return s.release(dx);
  } finally {
    s.dispose();
  }
}

export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc,
};
