/*
 * Input gradient of a depthwise 2-D convolution (NHWC), the kernel tfjs calls
 * DepthwiseConv2dNativeBackpropInput. It is the transpose of the forward pass, computed as a
 * scatter: every dy pixel adds dy * w[i][j] to the kh*kw input pixels it was computed from,
 *
 *   dxp[b][oy*sh + i*dil_h][ox*sw + j*dil_w][c] += dy[b][oy][ox][c] * w[i][j][c],
 *
 * into a zero-initialised accumulator `dxp` that is padded on every side (no bounds checks)
 * and whose pixels are round_up4(d) floats wide (no channel tails). The scatter form handles
 * every stride and dilation with the same loop. Rows are cut into tiles of ox so that the dy
 * pixels of a tile and the kh accumulator rows they update stay in L1 together.
 * With a channel multiplier M > 1, d = C*M and the extract step sums the M partial results.
 *
 * Channel tails: the last dy vector of a pixel may read up to 3 floats of the next pixel (or
 * slack after the buffer); the padded weights are zero in those lanes and the products land
 * in dxp's padding lanes, which extract never reads.
 */
#include "graft_simd.h"

/* 3x3: all 9 weight vectors stay in registers and each dy vector is loaded once. */
static void row_3x3(const float *dy_row, const float *wpad, float *r0, int ow, int d, int dp,
                    size_t row_step, size_t pix_step, size_t tap_step) {
  float *r1 = r0 + row_step;
  float *r2 = r1 + row_step;
  for (int c = 0; c < d; c += 4) {
    const v128_t w00 = load4(wpad + c), w01 = load4(wpad + dp + c), w02 = load4(wpad + 2 * dp + c);
    const v128_t w10 = load4(wpad + 3 * dp + c), w11 = load4(wpad + 4 * dp + c),
                 w12 = load4(wpad + 5 * dp + c);
    const v128_t w20 = load4(wpad + 6 * dp + c), w21 = load4(wpad + 7 * dp + c),
                 w22 = load4(wpad + 8 * dp + c);
    const float *g = dy_row + c;
    float *q0 = r0 + c, *q1 = r1 + c, *q2 = r2 + c;
    for (int o = 0; o < ow; ++o) {
      const v128_t gv = load4(g);
      add_to(q0, wasm_f32x4_mul(gv, w00));
      add_to(q0 + tap_step, wasm_f32x4_mul(gv, w01));
      add_to(q0 + 2 * tap_step, wasm_f32x4_mul(gv, w02));
      add_to(q1, wasm_f32x4_mul(gv, w10));
      add_to(q1 + tap_step, wasm_f32x4_mul(gv, w11));
      add_to(q1 + 2 * tap_step, wasm_f32x4_mul(gv, w12));
      add_to(q2, wasm_f32x4_mul(gv, w20));
      add_to(q2 + tap_step, wasm_f32x4_mul(gv, w21));
      add_to(q2 + 2 * tap_step, wasm_f32x4_mul(gv, w22));
      g += d;
      q0 += pix_step;
      q1 += pix_step;
      q2 += pix_step;
    }
  }
}

static void row_generic(const float *dy_row, const float *wpad, float *r0, int ow, int d, int dp,
                        int kh, int kw, size_t row_step, size_t pix_step, size_t tap_step) {
  for (int i = 0; i < kh; ++i) {
    for (int j = 0; j < kw; ++j) {
      const float *wt = wpad + (size_t)(i * kw + j) * dp;
      float *rt = r0 + i * row_step + j * tap_step;
      for (int c = 0; c < d; c += 4) {
        const v128_t wv = load4(wt + c);
        const float *g = dy_row + c;
        float *q = rt + c;
        for (int o = 0; o < ow; ++o) {
          add_to(q, wasm_f32x4_mul(load4(g), wv));
          g += d;
          q += pix_step;
        }
      }
    }
  }
}

/*
 * Input gradient of `batch` images (the caller goes chunk by chunk so that each chunk's
 * buffers are still in cache when they are copied out), into dxp, which this zeroes first.
 * dy:   [batch][oh][ow][d].
 * wpad: [kh*kw][round_up4(d)], the filter with zeros in the padding lanes (pad_channels).
 * dxp:  [batch][hp][wp][round_up4(d)]; hp > (oh-1)*sh + (kh-1)*dil_h, likewise wp.
 */
GRAFT_EXPORT(depthwise_input_grad)
void depthwise_input_grad(const float *dy, const float *wpad, float *dxp, int batch, int hp,
                          int wp, int oh, int ow, int d, int kh, int kw, int sh, int sw,
                          int dil_h, int dil_w) {
  const int dp = round_up4(d);
  __builtin_memset(dxp, 0, sizeof(float) * (size_t)batch * hp * wp * dp);
  const size_t row_step = (size_t)dil_h * wp * dp;
  const size_t pix_step = (size_t)sw * dp;
  const size_t tap_step = (size_t)dil_w * dp;
  const int is_3x3 = kh == 3 && kw == 3;
  const int tile = tile_pixels(dp, kh, sw);
  for (int b = 0; b < batch; ++b) {
    for (int oy = 0; oy < oh; ++oy) {
      const float *dy_row = dy + ((size_t)b * oh + oy) * ow * d;
      float *r0 = dxp + ((size_t)b * hp + (size_t)oy * sh) * wp * dp;
      for (int o0 = 0; o0 < ow; o0 += tile) {
        const int n = ow - o0 < tile ? ow - o0 : tile;
        const float *gt = dy_row + (size_t)o0 * d;
        float *rt = r0 + o0 * pix_step;
        if (is_3x3) {
          row_3x3(gt, wpad, rt, n, d, dp, row_step, pix_step, tap_step);
        } else {
          row_generic(gt, wpad, rt, n, d, dp, kh, kw, row_step, pix_step, tap_step);
        }
      }
    }
  }
}

/*
 * Copies the unpadded interior of dxp into dx [batch][h][w][c], summing the m partial
 * gradients of each input channel (dxp channel k*m + j belongs to input channel k).
 */
GRAFT_EXPORT(depthwise_input_grad_extract)
void depthwise_input_grad_extract(const float *dxp, float *dx, int batch, int h, int w, int hp,
                                  int wp, int pad_top, int pad_left, int c, int m) {
  const int dp = round_up4(c * m);
  for (int b = 0; b < batch; ++b) {
    for (int y = 0; y < h; ++y) {
      const float *src = dxp + (((size_t)b * hp + y + pad_top) * wp + pad_left) * dp;
      float *dst = dx + ((size_t)b * h + y) * w * c;
      for (int x = 0; x < w; ++x) {
        if (m == 1) {
          int k = 0;
          for (; k + 4 <= c; k += 4) store4(dst + k, load4(src + k));
          for (; k < c; ++k) dst[k] = src[k];
        } else {
          for (int k = 0; k < c; ++k) {
            float s = 0.f;
            for (int j = 0; j < m; ++j) s += src[k * m + j];
            dst[k] = s;
          }
        }
        src += dp;
        dst += c;
      }
    }
  }
}
