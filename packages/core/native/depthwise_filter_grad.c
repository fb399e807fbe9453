/*
 * Filter gradient of a depthwise 2-D convolution (NHWC), the kernel tfjs calls
 * DepthwiseConv2dNativeBackpropFilter:
 *
 *   dw[i][j][c] = sum over b, oy, ox of  xp[b][oy*sh + i*dil_h][ox*sw + j*dil_w][c] * dy[b][oy][ox][c]
 *
 * `xp` is the input already zero-padded on every side by the caller (so no bounds checks
 * here) and, when the channel multiplier M > 1, already expanded so that channel c*M+m holds
 * x's channel c; then `d` = C*M and the [kh][kw][d] result is exactly tfjs's [kh, kw, C, M].
 *
 * Loop order: each output row (b, oy) is cut into tiles of ox so that the dy pixels of a tile
 * and the input pixels they touch (kh rows) fit in L1 together; for each 4-channel vector
 * the sums over the tile live in registers and are added to the small accumulator `acc`
 * ([kh*kw][round_up4(d)], also L1-resident) once per tile.
 *
 * Channel tails: the last vector of a pixel may read up to 3 floats past it (the next
 * pixel, or slack the caller reserves after each buffer). Those lanes land in the padding
 * lanes of `acc`, which are never copied to `out`.
 */
#include "graft_simd.h"

/* All 9 taps of a 3x3 filter at once: 9 independent accumulator chains hide add latency and
 * each dy vector is loaded once for 9 multiply-adds. */
static void row_3x3(const float *x0, const float *dy_row, float *acc, int ow, int d, int dp,
                    size_t row_step, size_t pix_step, size_t tap_step) {
  const float *x1 = x0 + row_step;
  const float *x2 = x1 + row_step;
  for (int c = 0; c < d; c += 4) {
    v128_t a00 = wasm_f32x4_splat(0.f), a01 = a00, a02 = a00;
    v128_t a10 = a00, a11 = a00, a12 = a00;
    v128_t a20 = a00, a21 = a00, a22 = a00;
    const float *p0 = x0 + c, *p1 = x1 + c, *p2 = x2 + c, *g = dy_row + c;
    for (int o = 0; o < ow; ++o) {
      const v128_t gv = load4(g);
      a00 = madd(a00, load4(p0), gv);
      a01 = madd(a01, load4(p0 + tap_step), gv);
      a02 = madd(a02, load4(p0 + 2 * tap_step), gv);
      a10 = madd(a10, load4(p1), gv);
      a11 = madd(a11, load4(p1 + tap_step), gv);
      a12 = madd(a12, load4(p1 + 2 * tap_step), gv);
      a20 = madd(a20, load4(p2), gv);
      a21 = madd(a21, load4(p2 + tap_step), gv);
      a22 = madd(a22, load4(p2 + 2 * tap_step), gv);
      p0 += pix_step;
      p1 += pix_step;
      p2 += pix_step;
      g += d;
    }
    float *w = acc + c;
    add_to(w, a00);
    add_to(w + dp, a01);
    add_to(w + 2 * dp, a02);
    add_to(w + 3 * dp, a10);
    add_to(w + 4 * dp, a11);
    add_to(w + 5 * dp, a12);
    add_to(w + 6 * dp, a20);
    add_to(w + 7 * dp, a21);
    add_to(w + 8 * dp, a22);
  }
}

/* Any filter size: one tap at a time, four accumulators over ox so that adds overlap. */
static void row_generic(const float *x0, const float *dy_row, float *acc, int ow, int d, int dp,
                        int kh, int kw, size_t row_step, size_t pix_step, size_t tap_step) {
  for (int i = 0; i < kh; ++i) {
    for (int j = 0; j < kw; ++j) {
      const float *xt = x0 + i * row_step + j * tap_step;
      float *w = acc + (i * kw + j) * dp;
      for (int c = 0; c < d; c += 4) {
        v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0;
        const float *p = xt + c, *g = dy_row + c;
        int o = 0;
        for (; o + 4 <= ow; o += 4) {
          s0 = madd(s0, load4(p), load4(g));
          s1 = madd(s1, load4(p + pix_step), load4(g + d));
          s2 = madd(s2, load4(p + 2 * pix_step), load4(g + 2 * d));
          s3 = madd(s3, load4(p + 3 * pix_step), load4(g + 3 * d));
          p += 4 * pix_step;
          g += 4 * d;
        }
        for (; o < ow; ++o) {
          s0 = madd(s0, load4(p), load4(g));
          p += pix_step;
          g += d;
        }
        add_to(w + c, wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
      }
    }
  }
}

/*
 * Adds the filter gradient of `batch` images to acc (the caller zeroes it once and calls this
 * per chunk of images, so that each chunk's copies are still in cache when they are read).
 * xp:  [batch][hp][wp][d], zero padded; hp > (oh-1)*sh + (kh-1)*dil_h, likewise wp.
 * dy:  [batch][oh][ow][d].
 * acc: [kh*kw][round_up4(d)]; compact_channels turns it into tfjs's [kh][kw][d].
 */
GRAFT_EXPORT(depthwise_filter_grad)
void depthwise_filter_grad(const float *xp, const float *dy, float *acc, int batch, int hp,
                           int wp, int oh, int ow, int d, int kh, int kw, int sh, int sw,
                           int dil_h, int dil_w) {
  const int dp = round_up4(d);
  const size_t row_step = (size_t)dil_h * wp * d;
  const size_t pix_step = (size_t)sw * d;
  const size_t tap_step = (size_t)dil_w * d;
  const int is_3x3 = kh == 3 && kw == 3;
  const int tile = tile_pixels(d, kh, sw);
  for (int b = 0; b < batch; ++b) {
    for (int oy = 0; oy < oh; ++oy) {
      const float *dy_row = dy + ((size_t)b * oh + oy) * ow * d;
      const float *x0 = xp + ((size_t)b * hp + (size_t)oy * sh) * wp * d;
      for (int o0 = 0; o0 < ow; o0 += tile) {
        const int n = ow - o0 < tile ? ow - o0 : tile;
        const float *xt = x0 + o0 * pix_step;
        const float *gt = dy_row + (size_t)o0 * d;
        if (is_3x3) {
          row_3x3(xt, gt, acc, n, d, dp, row_step, pix_step, tap_step);
        } else {
          row_generic(xt, gt, acc, n, d, dp, kh, kw, row_step, pix_step, tap_step);
        }
      }
    }
  }
}
