/*
 * The filter gradient of a 1x1 convolution (src/kernels/conv2dBackpropFilter.ts):
 *   dw[i][o] = sum over pixels p of x[p][i] * dy[p][o]
 * with x [n][cin] and dy [n][cout] read in place (NHWC rows, no transposes), dw [cin][cout]
 * written (zeroed first). Float32 sums, as XNNPACK's matrix product that it replaces.
 *
 * Register tiles of 4 input channels x 8 output channels (8 accumulator vectors) run over a
 * block of pixels; blocks of PIXELS pixels x OUT_BLOCK output channels keep the dy rows a tile
 * reads in L1 while every input-channel tile passes over them. Channels outside whole tiles
 * (cin not a multiple of 4, cout not a multiple of 8) take a scalar loop. Nothing is read
 * past a row's last channel.
 */
#include "graft_simd.h"

#define PIXELS 64
#define OUT_BLOCK 64

/* Adds the 4x8 tile (i0.., o0..) over pixels [0, n) of the given rows to dw. */
static inline void tile_4x8(const float *x, const float *dy, float *dw, int n, int cin, int cout,
                            int i0, int o0) {
  float *w0 = dw + (size_t)i0 * cout + o0;
  float *w1 = w0 + cout, *w2 = w1 + cout, *w3 = w2 + cout;
  v128_t a00 = load4(w0), a01 = load4(w0 + 4), a10 = load4(w1), a11 = load4(w1 + 4);
  v128_t a20 = load4(w2), a21 = load4(w2 + 4), a30 = load4(w3), a31 = load4(w3 + 4);
  const float *xp = x + i0, *dp = dy + o0;
  for (int p = 0; p < n; ++p, xp += cin, dp += cout) {
    const v128_t xv = load4(xp), d0 = load4(dp), d1 = load4(dp + 4);
    const v128_t x0 = wasm_i32x4_shuffle(xv, xv, 0, 0, 0, 0);
    const v128_t x1 = wasm_i32x4_shuffle(xv, xv, 1, 1, 1, 1);
    const v128_t x2 = wasm_i32x4_shuffle(xv, xv, 2, 2, 2, 2);
    const v128_t x3 = wasm_i32x4_shuffle(xv, xv, 3, 3, 3, 3);
    a00 = madd(a00, x0, d0);
    a01 = madd(a01, x0, d1);
    a10 = madd(a10, x1, d0);
    a11 = madd(a11, x1, d1);
    a20 = madd(a20, x2, d0);
    a21 = madd(a21, x2, d1);
    a30 = madd(a30, x3, d0);
    a31 = madd(a31, x3, d1);
  }
  store4(w0, a00);
  store4(w0 + 4, a01);
  store4(w1, a10);
  store4(w1 + 4, a11);
  store4(w2, a20);
  store4(w2 + 4, a21);
  store4(w3, a30);
  store4(w3 + 4, a31);
}

/* Adds dw[i][o] for i in [i0, i1), o in [o0, o1) over pixels [0, n), one at a time. */
static void region_scalar(const float *x, const float *dy, float *dw, int n, int cin, int cout,
                          int i0, int i1, int o0, int o1) {
  for (int i = i0; i < i1; ++i) {
    for (int o = o0; o < o1; ++o) {
      float s = 0.f;
      for (int p = 0; p < n; ++p) s += x[(size_t)p * cin + i] * dy[(size_t)p * cout + o];
      dw[(size_t)i * cout + o] += s;
    }
  }
}

GRAFT_EXPORT(pointwise_filter_grad)
void pointwise_filter_grad(const float *x, const float *dy, float *dw, int n, int cin,
                           int cout) {
  __builtin_memset(dw, 0, (size_t)cin * cout * sizeof(float));
  const int ci4 = cin & ~3, co8 = cout & ~7;
  for (int p0 = 0; p0 < n; p0 += PIXELS) {
    const int pn = n - p0 < PIXELS ? n - p0 : PIXELS;
    const float *xb = x + (size_t)p0 * cin, *db = dy + (size_t)p0 * cout;
    for (int ob = 0; ob < co8; ob += OUT_BLOCK) {
      const int oe = ob + OUT_BLOCK < co8 ? ob + OUT_BLOCK : co8;
      for (int i0 = 0; i0 < ci4; i0 += 4) {
        for (int o0 = ob; o0 < oe; o0 += 8) tile_4x8(xb, db, dw, pn, cin, cout, i0, o0);
      }
    }
    /* The edges: input channels past the last whole 4, output channels past the last 8. */
    if (ci4 < cin) region_scalar(xb, db, dw, pn, cin, cout, ci4, cin, 0, cout);
    if (co8 < cout) region_scalar(xb, db, dw, pn, cin, cout, 0, ci4, co8, cout);
  }
}
