import * as tf from '@tensorflow/tfjs-core';

/**
 * The grid of depthwise convolutions graft's depthwise kernels are tested on: shapes that
 * break naive code (odd and non-square sizes, batch 1, channel counts that are not a multiple
 * of the 4-float vector, multiplier 2, filters larger than the image along one side, every
 * kind of padding, stride 2, dilation 2).
 */
export interface DepthwiseCase {
  xShape: [number, number, number, number];
  filterShape: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
}

export function describeCase(c: DepthwiseCase): string {
  return (
    `x [${c.xShape}] filter [${c.filterShape}] strides ${c.strides} dilations ${c.dilations} ` +
    `pad ${JSON.stringify(c.pad)}`
  );
}

const PADS: DepthwiseCase['pad'][] = [
  'same',
  'valid',
  1,
  [
    [0, 0],
    [1, 2],
    [0, 1],
    [0, 0],
  ],
];

/**
 * Every combination of images (7x5 batch 1, 9x9 batch 2), channels 1/3/5/8/17, filters
 * 3x3/5x5/1x1, multipliers 1/2, strides 1/2 and the four kinds of padding, with `dilation`
 * on both axes (combinations whose output would be empty are left out); then non-square
 * filters with different strides and dilations along height and width.
 */
export function depthwiseGrid(dilation: number): DepthwiseCase[] {
  const cases: DepthwiseCase[] = [];
  for (const [b, h, w] of [
    [1, 7, 5],
    [2, 9, 9],
  ] as const) {
    for (const c of [1, 3, 5, 8, 17]) {
      for (const k of [3, 5, 1]) {
        for (const m of [1, 2]) {
          for (const s of [1, 2]) {
            for (const pad of PADS) {
              const reach = (k - 1) * dilation + 1;
              if (pad === 'valid' && (reach > h || reach > w)) continue;
              if (pad === 1 && (reach > h + 2 || reach > w + 2)) continue;
              if (typeof pad === 'object' && (reach > h + 3 || reach > w + 1)) continue;
              cases.push({
                xShape: [b, h, w, c],
                filterShape: [k, k, c, m],
                strides: [s, s],
                dilations: [dilation, dilation],
                pad,
              });
            }
          }
        }
      }
    }
  }
  // Asymmetric filters, strides and dilations, so that no height/width mix-up can hide.
  for (const [kh, kw, sh, sw, dh, dw] of [
    [3, 1, 1, 2, dilation, 1],
    [1, 3, 2, 1, 1, dilation],
    [2, 3, 1, 1, dilation, 1],
    [3, 5, 2, 1, 1, 1],
  ] as const) {
    for (const pad of PADS) {
      for (const m of [1, 2]) {
        cases.push({
          xShape: [2, 9, 7, 5],
          filterShape: [kh, kw, 5, m],
          strides: [sh, sw],
          dilations: [dh, dw],
          pad,
        });
      }
    }
  }
  return cases;
}

/** The attrs both backward kernels take, from a case. */
export function convAttrs(c: DepthwiseCase): tf.NamedAttrMap {
  return {
    strides: c.strides,
    dilations: c.dilations,
    pad: c.pad,
    dimRoundingMode: undefined,
  } as unknown as tf.NamedAttrMap;
}

/** dy's shape for a case: the forward convolution's output shape. */
export function dyShape(c: DepthwiseCase): [number, number, number, number] {
  const info = tf.backend_util.computeConv2DInfo(
    c.xShape,
    c.filterShape,
    c.strides,
    c.dilations,
    c.pad,
    undefined,
    true,
  );
  return info.outShape;
}

/**
 * Forward depthwise convolution in float64 with any strides and dilations (tfjs's own kernels
 * refuse stride > 1 together with dilation > 1):
 * y[b, oy, ox, c*M+m] = sum over i, j of x[b, oy*sh - top + i*dh, ox*sw - left + j*dw, c] * w[i, j, c, m].
 */
export function referenceDepthwiseConv2d(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  c: DepthwiseCase,
): Float64Array {
  const [batch, h, wd, ch] = c.xShape;
  const [kh, kw, , m] = c.filterShape;
  const info = tf.backend_util.computeConv2DInfo(
    c.xShape,
    c.filterShape,
    c.strides,
    c.dilations,
    c.pad,
    undefined,
    true,
  );
  const { outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  const [sh, sw] = c.strides;
  const [dh, dw] = c.dilations;
  const d = ch * m;
  const y = new Float64Array(batch * oh * ow * d);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let i = 0; i < kh; i++) {
          const iy = oy * sh - top + i * dh;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = ox * sw - left + j * dw;
            if (ix < 0 || ix >= wd) continue;
            for (let k = 0; k < ch; k++) {
              const xv = x[((b * h + iy) * wd + ix) * ch + k] as number;
              for (let mi = 0; mi < m; mi++) {
                const at = ((b * oh + oy) * ow + ox) * d + k * m + mi;
                y[at] = (y[at] as number) + xv * (w[((i * kw + j) * ch + k) * m + mi] as number);
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
