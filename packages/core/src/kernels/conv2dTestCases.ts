import * as tf from '@tensorflow/tfjs-core';
import { seededTensor } from './testing/compareWithCpu';

/**
 * The convolutions graft's Conv2D backward kernels are tested on: shapes that break naive
 * code (odd, non-square and 1x1 images, batch 1, channel counts 1/3/8/17 that are not a
 * multiple of the SIMD width, filters larger than the image, even sizes where 'same' pads
 * one more row at the bottom than at the top, explicit asymmetric padding, rounding modes).
 */
export interface Conv2dCase {
  xShape: [number, number, number, number];
  filterShape: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function describeCase(c: Conv2dCase): string {
  const rounding = c.dimRoundingMode ? ` rounding ${c.dimRoundingMode}` : '';
  return (
    `x [${c.xShape}] filter [${c.filterShape}] strides ${c.strides} dilations ${c.dilations} ` +
    `pad ${JSON.stringify(c.pad)}${rounding}`
  );
}

const PADS: Conv2dCase['pad'][] = [
  'same',
  'valid',
  1,
  [
    [0, 0],
    [1, 2],
    [2, 0],
    [0, 0],
  ],
];

const IMAGES: Array<[number, number]> = [
  [7, 5],
  [9, 9],
  [8, 6],
  [1, 1],
];

const CHANNELS = [1, 3, 8, 17];

/** The forward output shape of a case, or null when it would be empty. */
export function dyShape(c: Conv2dCase): [number, number, number, number] | null {
  const info = tf.backend_util.computeConv2DInfo(
    c.xShape,
    c.filterShape,
    c.strides,
    c.dilations,
    c.pad,
    c.dimRoundingMode,
  );
  return info.outHeight > 0 && info.outWidth > 0 ? info.outShape : null;
}

/**
 * Every image size x kernel 1/3/5 x stride 1/2 x padding kind ('same', 'valid', 1, explicit
 * asymmetric), with `dilation`; batch alternates 1/3 and (Cin, Cout) walks all 16 pairs of
 * 1/3/8/17 across the grid. Each channel pair also gets a 'ceil'-rounded numeric-pad case.
 * Cases with an empty output are left out.
 */
export function conv2dGrid(dilation: number): Conv2dCase[] {
  const cases: Conv2dCase[] = [];
  const push = (c: Conv2dCase) => {
    if (dyShape(c)) cases.push(c);
  };
  let n = 0;
  for (const [h, w] of IMAGES) {
    for (const k of [1, 3, 5]) {
      for (const s of [1, 2]) {
        for (const pad of PADS) {
          const cin = CHANNELS[n % 4]!;
          const cout = CHANNELS[Math.floor(n / 4) % 4]!;
          push({
            xShape: [n % 2 === 0 ? 1 : 3, h, w, cin],
            filterShape: [k, k, cin, cout],
            strides: [s, s],
            dilations: [dilation, dilation],
            pad,
          });
          n++;
        }
      }
    }
  }
  for (const [i, cin] of CHANNELS.entries()) {
    for (const [j, cout] of CHANNELS.entries()) {
      push({
        xShape: [1 + ((i + j) % 2) * 2, 8, 7, cin],
        filterShape: [3, 2, cin, cout],
        strides: [2, 3],
        dilations: [dilation, dilation],
        pad: 1,
        dimRoundingMode: 'ceil',
      });
    }
  }
  return cases;
}

/** The attrs both backward kernels share, from a case. */
export function convAttrs(c: Conv2dCase): tf.NamedAttrMap {
  return {
    strides: c.strides,
    dilations: c.dilations,
    pad: c.pad,
    dataFormat: 'NHWC',
    dimRoundingMode: c.dimRoundingMode,
  } as unknown as tf.NamedAttrMap;
}

/**
 * Forward NHWC convolution in float64 with any strides and dilations (tfjs's conv2d op
 * refuses stride > 1 together with dilation > 1):
 * y[b, oy, ox, o] = sum over i, j, c of x[b, oy*sh - top + i*dh, ox*sw - left + j*dw, c] * w[i, j, c, o].
 */
export function referenceConv2d(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  c: Conv2dCase,
): Float64Array {
  const [batch, h, wd, cin] = c.xShape;
  const [kh, kw, , cout] = c.filterShape;
  const info = tf.backend_util.computeConv2DInfo(
    c.xShape,
    c.filterShape,
    c.strides,
    c.dilations,
    c.pad,
    c.dimRoundingMode,
  );
  const { outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  const [sh, sw] = c.strides;
  const [dh, dw] = c.dilations;
  const y = new Float64Array(batch * oh * ow * cout);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const at = ((b * oh + oy) * ow + ox) * cout;
        for (let i = 0; i < kh; i++) {
          const iy = oy * sh - top + i * dh;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = ox * sw - left + j * dw;
            if (ix < 0 || ix >= wd) continue;
            for (let k = 0; k < cin; k++) {
              const xv = x[((b * h + iy) * wd + ix) * cin + k] as number;
              const wAt = ((i * kw + j) * cin + k) * cout;
              for (let o = 0; o < cout; o++) {
                y[at + o] = (y[at + o] as number) + xv * (w[wAt + o] as number);
              }
            }
          }
        }
      }
    }
  }
  return y;
}

/** sum_i a_i * b_i in float64. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/**
 * The adjoint identity of a backward kernel over the dilation-2 grid and every fifth case of
 * the dilation-1 one: <conv2d(x, w), dy> = <x, dx> (`wrt` 'x') or <w, dW> ('filter'), with
 * the forward in float64 ({@link referenceConv2d}, which honours dilation where tfjs's cpu
 * backend does not). Relative to the sum of |every product term|, which bounds float32
 * rounding in any order; the cases off by 1e-5 or more come back described.
 */
export function convAdjointFailures(
  wrt: 'x' | 'filter',
  backward: (x: tf.Tensor, w: tf.Tensor, dy: tf.Tensor, c: Conv2dCase) => tf.Tensor,
): { cases: number; failures: string[] } {
  const cases = [...conv2dGrid(2), ...conv2dGrid(1).filter((_, i) => i % 5 === 0)];
  const failures: string[] = [];
  for (const [i, c] of cases.entries()) {
    const x = seededTensor(c.xShape, 3 * i);
    const w = seededTensor(c.filterShape, 3 * i + 1);
    const dy = seededTensor(dyShape(c)!, 3 * i + 2);
    const [xv, wv, dyv] = [x.dataSync(), w.dataSync(), dy.dataSync()];
    const grad = backward(x, w, dy, c);
    const lhs = dot(referenceConv2d(xv, wv, c), dyv);
    const rhs = dot(wrt === 'x' ? xv : wv, grad.dataSync());
    const scale = dot(referenceConv2d(xv.map(Math.abs), wv.map(Math.abs), c), dyv.map(Math.abs));
    const rel = Math.abs(lhs - rhs) / Math.max(scale, 1e-30);
    if (!(rel < 1e-5)) failures.push(`${describeCase(c)}: ${lhs} vs ${rhs}`);
    tf.dispose([x, w, dy, grad]);
  }
  return { cases: cases.length, failures };
}

/**
 * Checks tf.grad of f(x, w) = sum(tanh(conv2d(x, w)) * r) with respect to `x` or the filter
 * against float64 central differences of {@link referenceConv2d}: f is nonlinear, so this is
 * not the adjoint identity again; the gradient comes from the active backend (float32), f
 * from the reference. Seeds: x `seed`, w `seed + 1`, r `seed + 2`, the three probe
 * directions `probeSeed` onward. Returns |analytic - numeric| / max(1, |numeric|) for each
 * direction. `c` must have equal strides and a 'same' or 'valid' pad (tf.conv2d's).
 */
export function convGradientErrors(
  c: Conv2dCase,
  wrt: 'x' | 'filter',
  seed: number,
  probeSeed: number,
): number[] {
  const x = seededTensor(c.xShape, seed);
  const w = seededTensor(c.filterShape, seed + 1);
  const r = seededTensor(dyShape(c)!, seed + 2);
  const [xv, wv, rv] = [x.dataSync(), w.dataSync(), r.dataSync()];
  const f = (xs: ArrayLike<number>, ws: ArrayLike<number>) => {
    const y = referenceConv2d(xs, ws, c);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += Math.tanh(y[i]!) * rv[i]!;
    return s;
  };
  const pad = c.pad as 'same' | 'valid';
  const g = tf.grad((v: tf.Tensor) => {
    const [input, filter] = wrt === 'x' ? [v, w] : [x, v];
    return tf.sum(
      tf.mul(tf.tanh(tf.conv2d(input as tf.Tensor4D, filter as tf.Tensor4D, c.strides[0], pad)), r),
    );
  })(wrt === 'x' ? x : w);
  const at = Float64Array.from(wrt === 'x' ? xv : wv);
  const fAt = (v: Float64Array) => (wrt === 'x' ? f(v, wv) : f(xv, v));
  const eps = 1e-4;
  const errors: number[] = [];
  for (let probe = 0; probe < 3; probe++) {
    const d = seededTensor(wrt === 'x' ? c.xShape : c.filterShape, probeSeed + probe);
    const dv = d.dataSync();
    const analytic = dot(g.dataSync(), dv);
    const numeric =
      (fAt(at.map((a, i) => a + eps * dv[i]!)) - fAt(at.map((a, i) => a - eps * dv[i]!))) /
      (2 * eps);
    errors.push(Math.abs(analytic - numeric) / Math.max(1, Math.abs(numeric)));
    d.dispose();
  }
  tf.dispose([x, w, r, g]);
  return errors;
}

function pointwise(
  xShape: [number, number, number, number],
  cout: number,
  pad: Conv2dCase['pad'] = 'valid',
): Conv2dCase {
  return {
    xShape,
    filterShape: [1, 1, xShape[3], cout],
    strides: [1, 1],
    dilations: [1, 1],
    pad,
  };
}

/**
 * 1x1 cases around the tiles and blocks of graft's native product (native/pointwise_conv.c),
 * for the forward convolution and its input gradient: rows (pixels) 1, 3, 5 and across the
 * 64-row block (63, 64, 65, 130, 144); channel counts below, at and past the 8-column panel
 * and the 4-wide tail on both sides (1, 3, 4, 5, 8, 12, 13, 16, 17, 21, 24, 75);
 * MobileNetV2's last convolution, 112 -> 1280; every way of saying "no padding".
 */
export const POINTWISE_CASES: Conv2dCase[] = [
  pointwise([1, 1, 1, 1], 1),
  pointwise([1, 1, 3, 3], 4, 'same'),
  pointwise([1, 5, 1, 17], 5, 0 as never),
  pointwise([1, 7, 9, 3], 13, [
    [0, 0],
    [0, 0],
    [0, 0],
    [0, 0],
  ] as never),
  pointwise([1, 8, 8, 17], 8),
  pointwise([1, 5, 13, 5], 12),
  pointwise([3, 7, 3, 8], 21, 'same'),
  pointwise([2, 5, 13, 16], 75),
  pointwise([1, 13, 10, 24], 144),
  pointwise([16, 3, 3, 112], 1280, 'same'),
  { ...pointwise([1, 9, 7, 3], 8), strides: 1 as never, dilations: 2 as never },
];
