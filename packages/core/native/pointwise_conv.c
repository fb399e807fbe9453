/*
 * The matrix product of a 1x1 convolution, forward and input gradient
 * (src/kernels/pointwiseConv2d.ts, src/kernels/conv2dBackpropInput.ts):
 *   y[p][o] = sum over i of x[p][i] * w[i][o]
 * with x [n][k] (NHWC rows), w [k][m] row-major (the [1, 1, k, m] filter as it is) and y [n][m],
 * all read and written in place. The input gradient is the same product with the filter
 * transposed (transpose_matrix) into scratch: dx [n][cin] = dy [n][cout] · wᵀ [cout][cin].
 *
 * Why not XNNPACK: its GEMM reads a packed copy of w, and while training the weights change
 * every step, so tfjs's Conv2D re-transposes and re-packs every filter on every call (and
 * creates a new operator for it): about 50 µs per call even for a 56x336 filter, the larger
 * part of a small layer's time. This kernel reads w unpacked: a 4x8 register tile splats one
 * float of each of 4 rows of x and multiplies it by 8 consecutive floats of row i of w, so the
 * 8 columns of w it needs for a tile are one 32-byte run per i.
 *
 * Sums run over i in order, each as acc + x * w from zero (WebAssembly SIMD has no fused
 * multiply-add), as XNNPACK's wasmsimd GEMM does with a zero bias. Blocks of PIXELS rows keep
 * those rows of x in cache while every 8-column panel of w passes over them. Columns outside
 * whole panels take a 4-wide tile, then a scalar loop; rows outside whole tiles one row at a
 * time. Nothing is read past a row's last value.
 */
#include "graft_simd.h"

#define PIXELS 64

static inline v128_t splat(const float *p) { return wasm_v128_load32_splat(p); }

/* Rows [0, 4) x columns [j, j + 8) of y. */
static inline void tile_4x8(const float *x, const float *w, float *y, int k, int m, int j) {
  const float *x0 = x, *x1 = x + k, *x2 = x1 + k, *x3 = x2 + k;
  const float *wp = w + j;
  v128_t c00 = wasm_f32x4_splat(0.f), c01 = c00, c10 = c00, c11 = c00;
  v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int i = 0; i < k; ++i, wp += m) {
    const v128_t b0 = load4(wp), b1 = load4(wp + 4);
    const v128_t a0 = splat(x0 + i), a1 = splat(x1 + i), a2 = splat(x2 + i), a3 = splat(x3 + i);
    c00 = madd(c00, a0, b0);
    c01 = madd(c01, a0, b1);
    c10 = madd(c10, a1, b0);
    c11 = madd(c11, a1, b1);
    c20 = madd(c20, a2, b0);
    c21 = madd(c21, a2, b1);
    c30 = madd(c30, a3, b0);
    c31 = madd(c31, a3, b1);
  }
  float *y0 = y + j, *y1 = y0 + m, *y2 = y1 + m, *y3 = y2 + m;
  store4(y0, c00);
  store4(y0 + 4, c01);
  store4(y1, c10);
  store4(y1 + 4, c11);
  store4(y2, c20);
  store4(y2 + 4, c21);
  store4(y3, c30);
  store4(y3 + 4, c31);
}

/* Row 0 x columns [j, j + 8) of y. */
static inline void tile_1x8(const float *x, const float *w, float *y, int k, int m, int j) {
  const float *wp = w + j;
  v128_t c0 = wasm_f32x4_splat(0.f), c1 = c0;
  for (int i = 0; i < k; ++i, wp += m) {
    const v128_t a = splat(x + i);
    c0 = madd(c0, a, load4(wp));
    c1 = madd(c1, a, load4(wp + 4));
  }
  store4(y + j, c0);
  store4(y + j + 4, c1);
}

/* Row 0 x columns [j, j + 4) of y. */
static inline void tile_1x4(const float *x, const float *w, float *y, int k, int m, int j) {
  const float *wp = w + j;
  v128_t c = wasm_f32x4_splat(0.f);
  for (int i = 0; i < k; ++i, wp += m) c = madd(c, splat(x + i), load4(wp));
  store4(y + j, c);
}

/* Row 0, column j of y. */
static inline void tile_1x1(const float *x, const float *w, float *y, int k, int m, int j) {
  float s = 0.f;
  for (int i = 0; i < k; ++i) s += x[i] * w[(size_t)i * m + j];
  y[j] = s;
}

GRAFT_EXPORT(pointwise_matmul)
void pointwise_matmul(const float *x, const float *w, float *y, int n, int k, int m) {
  const int m8 = m & ~7;
  const int m4 = m & ~3;
  for (int p0 = 0; p0 < n; p0 += PIXELS) {
    const int pe = n - p0 < PIXELS ? n : p0 + PIXELS;
    const int pe4 = p0 + ((pe - p0) & ~3);
    for (int j = 0; j < m8; j += 8) {
      int p = p0;
      for (; p < pe4; p += 4) tile_4x8(x + (size_t)p * k, w, y + (size_t)p * m, k, m, j);
      for (; p < pe; ++p) tile_1x8(x + (size_t)p * k, w, y + (size_t)p * m, k, m, j);
    }
    /* Columns past the last whole panel of 8: one of 4, then one at a time. */
    for (int p = p0; p < pe; ++p) {
      const float *xp = x + (size_t)p * k;
      float *yp = y + (size_t)p * m;
      if (m8 < m4) tile_1x4(xp, w, yp, k, m, m8);
      for (int j = m4; j < m; ++j) tile_1x1(xp, w, yp, k, m, j);
    }
  }
}

/* t [cols][rows] = aᵀ for a [rows][cols], in 4x4 blocks where both fit. */
GRAFT_EXPORT(transpose_matrix)
void transpose_matrix(const float *a, float *t, int rows, int cols) {
  const int r4 = rows & ~3, c4 = cols & ~3;
  for (int r = 0; r < r4; r += 4) {
    const float *a0 = a + (size_t)r * cols, *a1 = a0 + cols, *a2 = a1 + cols, *a3 = a2 + cols;
    for (int c = 0; c < c4; c += 4) {
      const v128_t v0 = load4(a0 + c), v1 = load4(a1 + c), v2 = load4(a2 + c), v3 = load4(a3 + c);
      /* [v0 v1 v2 v3] rows -> columns: interleave pairs, then halves. */
      const v128_t l01 = wasm_i32x4_shuffle(v0, v1, 0, 4, 1, 5);
      const v128_t h01 = wasm_i32x4_shuffle(v0, v1, 2, 6, 3, 7);
      const v128_t l23 = wasm_i32x4_shuffle(v2, v3, 0, 4, 1, 5);
      const v128_t h23 = wasm_i32x4_shuffle(v2, v3, 2, 6, 3, 7);
      float *t0 = t + (size_t)c * rows + r;
      store4(t0, wasm_i64x2_shuffle(l01, l23, 0, 2));
      store4(t0 + rows, wasm_i64x2_shuffle(l01, l23, 1, 3));
      store4(t0 + 2 * (size_t)rows, wasm_i64x2_shuffle(h01, h23, 0, 2));
      store4(t0 + 3 * (size_t)rows, wasm_i64x2_shuffle(h01, h23, 1, 3));
    }
    for (int c = c4; c < cols; ++c) {
      float *tc = t + (size_t)c * rows + r;
      tc[0] = a0[c];
      tc[1] = a1[c];
      tc[2] = a2[c];
      tc[3] = a3[c];
    }
  }
  for (int r = r4; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) t[(size_t)c * rows + r] = a[(size_t)r * cols + c];
  }
}
