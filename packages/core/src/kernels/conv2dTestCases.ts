import * as tf from '@tensorflow/tfjs-core';

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
