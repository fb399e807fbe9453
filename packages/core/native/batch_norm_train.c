/*
 * Batch normalisation in training mode, fused with an optional ReLU / clipped ReLU, over a
 * [rows][c] view of an NHWC tensor (rows = N*H*W). What the TS side (src/kernels/
 * batchNormTrain.ts) computes per channel between the calls is O(c); everything O(rows*c)
 * is here:
 *
 *   forward:  batch_norm_sums     per-channel sums for the mean and biased variance of x
 *             batch_norm_apply    y = act((x - mean) * scale + beta), scale = gamma * invStd
 *   backward: batch_norm_grad_sums   sum(g) and sum(g * (x - mean)), g = dy * act'(z)
 *             batch_norm_grad_dx     dx = g * scale + (x - mean) * k1 + k0
 *
 * The activation's mask act'(z) is recomputed from x in the backward calls (z = the same
 * expression as in batch_norm_apply, so the same bits), which is cheaper than saving and
 * copying y or z. act: 0 none, 1 clip to [0, hi] (hi = +inf for ReLU); the gradient passes
 * where 0 < z < hi, both ends excluded, as TensorFlow's ReluGrad and Relu6Grad.
 *
 * Reductions run over tiles of rows that fit in L1 (about 16 KiB of x), one 4-channel vector
 * at a time with the sums in registers, and add each tile's sums to `acc`; so no float sum
 * runs over more than a tile's rows before it is folded, which keeps float32 error low for
 * rows in the tens of thousands. The variance is taken around a shift (x's first row), which
 * keeps it accurate for large values with a small spread.
 *
 * The reductions and the elementwise passes work on one chunk of rows per call, so that the
 * TS side can copy a cache-sized chunk in from tfjs's heap and process it while it is still in
 * cache (two passes over x: statistics, then normalise; likewise backward).
 *
 * Channel counts need not be a multiple of 4: the last partial vector is done in scalars.
 * No call reads or writes past the [rows][c] buffers it is given.
 */
#include "graft_simd.h"

/* Rows per reduction tile: ~16 KiB of one [rows][c] buffer, at least 1. */
static inline int tile_rows(int c) {
  const int t = (16 * 1024) / (c * 4);
  return t < 1 ? 1 : t;
}

/* Mask of lanes where 0 < z < hi. */
static inline v128_t pass_mask(v128_t z, v128_t hi) {
  return wasm_v128_and(wasm_f32x4_gt(z, wasm_f32x4_splat(0.f)), wasm_f32x4_lt(z, hi));
}

static inline float pass_scalar(float z, float hi) { return (z > 0.f && z < hi) ? 1.f : 0.f; }

/*
 * Adds sum(x - k) to acc[0..c) and sum((x - k)^2) to acc[cp..cp+c), cp = round_up4(c), for a
 * chunk of rows (the caller zeroes acc once and calls this per chunk, so that each chunk's
 * copy is still in cache). k is one row of x (the caller's choice, e.g. x's first row): the
 * mean and biased variance are then k + S1/n and S2/n - (S1/n)^2, accurate for large values
 * with a small spread.
 */
GRAFT_EXPORT(batch_norm_sums)
void batch_norm_sums(const float *x, const float *k_row, float *acc, int rows, int c) {
  const int cp = round_up4(c);
  const int c4 = c & ~3;
  float *s1 = acc, *s2 = acc + cp;
  const int tile = tile_rows(c);
  for (int r0 = 0; r0 < rows; r0 += tile) {
    const int n = rows - r0 < tile ? rows - r0 : tile;
    const float *xt = x + (size_t)r0 * c;
    for (int ch = 0; ch < c4; ch += 4) {
      const v128_t k = load4(k_row + ch);
      v128_t a0 = wasm_f32x4_splat(0.f), a1 = a0, q0 = a0, q1 = a0;
      const float *p = xt + ch;
      int r = 0;
      for (; r + 2 <= n; r += 2) {
        const v128_t d0 = wasm_f32x4_sub(load4(p), k);
        const v128_t d1 = wasm_f32x4_sub(load4(p + c), k);
        a0 = wasm_f32x4_add(a0, d0);
        a1 = wasm_f32x4_add(a1, d1);
        q0 = madd(q0, d0, d0);
        q1 = madd(q1, d1, d1);
        p += 2 * (size_t)c;
      }
      if (r < n) {
        const v128_t d0 = wasm_f32x4_sub(load4(p), k);
        a0 = wasm_f32x4_add(a0, d0);
        q0 = madd(q0, d0, d0);
      }
      add_to(s1 + ch, wasm_f32x4_add(a0, a1));
      add_to(s2 + ch, wasm_f32x4_add(q0, q1));
    }
    for (int ch = c4; ch < c; ++ch) {
      const float k = k_row[ch];
      float a = 0.f, q = 0.f;
      for (int r = 0; r < n; ++r) {
        const float d = xt[(size_t)r * c + ch] - k;
        a += d;
        q += d * d;
      }
      s1[ch] += a;
      s2[ch] += q;
    }
  }
}

/* y = act((x - mean) * scale + beta); y may be x (in place). */
GRAFT_EXPORT(batch_norm_apply)
void batch_norm_apply(const float *x, float *y, int rows, int c, const float *mean,
                      const float *scale, const float *beta, int act, float hi) {
  const int c4 = c & ~3;
  const v128_t zero = wasm_f32x4_splat(0.f);
  const v128_t top = wasm_f32x4_splat(hi);
  for (int r = 0; r < rows; ++r) {
    const float *xr = x + (size_t)r * c;
    float *yr = y + (size_t)r * c;
    int ch = 0;
    if (act) {
      for (; ch < c4; ch += 4) {
        const v128_t z = madd(load4(beta + ch), wasm_f32x4_sub(load4(xr + ch), load4(mean + ch)),
                              load4(scale + ch));
        store4(yr + ch, wasm_f32x4_pmin(top, wasm_f32x4_pmax(zero, z)));
      }
      for (; ch < c; ++ch) {
        const float z = beta[ch] + (xr[ch] - mean[ch]) * scale[ch];
        yr[ch] = z > 0.f ? (z < hi ? z : hi) : 0.f;
      }
    } else {
      for (; ch < c4; ch += 4) {
        store4(yr + ch, madd(load4(beta + ch), wasm_f32x4_sub(load4(xr + ch), load4(mean + ch)),
                             load4(scale + ch)));
      }
      for (; ch < c; ++ch) yr[ch] = beta[ch] + (xr[ch] - mean[ch]) * scale[ch];
    }
  }
}

/*
 * Adds sum(g) to sums[0..c) and sum(g * (x - mean)) to sums[cp..cp+c), g = dy * act'(z),
 * cp = round_up4(c), for a chunk of rows (the caller zeroes sums once, as for
 * batch_norm_sums).
 */
GRAFT_EXPORT(batch_norm_grad_sums)
void batch_norm_grad_sums(const float *dy, const float *x, float *sums, int rows, int c,
                          const float *mean, const float *scale, const float *beta, int act,
                          float hi) {
  const int cp = round_up4(c);
  const int c4 = c & ~3;
  float *sg = sums, *sgx = sums + cp;
  const int tile = tile_rows(c);
  const v128_t top = wasm_f32x4_splat(hi);
  for (int r0 = 0; r0 < rows; r0 += tile) {
    const int n = rows - r0 < tile ? rows - r0 : tile;
    const size_t base = (size_t)r0 * c;
    for (int ch = 0; ch < c4; ch += 4) {
      const v128_t m = load4(mean + ch), s = load4(scale + ch), b = load4(beta + ch);
      v128_t a0 = wasm_f32x4_splat(0.f), a1 = a0, q0 = a0, q1 = a0;
      const float *px = x + base + ch, *pg = dy + base + ch;
      int r = 0;
      if (act) {
        for (; r + 2 <= n; r += 2) {
          const v128_t d0 = wasm_f32x4_sub(load4(px), m);
          const v128_t d1 = wasm_f32x4_sub(load4(px + c), m);
          const v128_t g0 = wasm_v128_and(load4(pg), pass_mask(madd(b, d0, s), top));
          const v128_t g1 = wasm_v128_and(load4(pg + c), pass_mask(madd(b, d1, s), top));
          a0 = wasm_f32x4_add(a0, g0);
          a1 = wasm_f32x4_add(a1, g1);
          q0 = madd(q0, g0, d0);
          q1 = madd(q1, g1, d1);
          px += 2 * (size_t)c;
          pg += 2 * (size_t)c;
        }
        if (r < n) {
          const v128_t d0 = wasm_f32x4_sub(load4(px), m);
          const v128_t g0 = wasm_v128_and(load4(pg), pass_mask(madd(b, d0, s), top));
          a0 = wasm_f32x4_add(a0, g0);
          q0 = madd(q0, g0, d0);
        }
      } else {
        for (; r + 2 <= n; r += 2) {
          const v128_t d0 = wasm_f32x4_sub(load4(px), m);
          const v128_t d1 = wasm_f32x4_sub(load4(px + c), m);
          const v128_t g0 = load4(pg), g1 = load4(pg + c);
          a0 = wasm_f32x4_add(a0, g0);
          a1 = wasm_f32x4_add(a1, g1);
          q0 = madd(q0, g0, d0);
          q1 = madd(q1, g1, d1);
          px += 2 * (size_t)c;
          pg += 2 * (size_t)c;
        }
        if (r < n) {
          const v128_t d0 = wasm_f32x4_sub(load4(px), m);
          const v128_t g0 = load4(pg);
          a0 = wasm_f32x4_add(a0, g0);
          q0 = madd(q0, g0, d0);
        }
      }
      add_to(sg + ch, wasm_f32x4_add(a0, a1));
      add_to(sgx + ch, wasm_f32x4_add(q0, q1));
    }
    for (int ch = c4; ch < c; ++ch) {
      float a = 0.f, q = 0.f;
      for (int r = 0; r < n; ++r) {
        const size_t i = base + (size_t)r * c + ch;
        const float d = x[i] - mean[ch];
        const float g = act ? dy[i] * pass_scalar(beta[ch] + d * scale[ch], hi) : dy[i];
        a += g;
        q += g * d;
      }
      sg[ch] += a;
      sgx[ch] += q;
    }
  }
}

/* dx = g * scale + (x - mean) * k1 + k0, g = dy * act'(z); dx may be dy (in place). */
GRAFT_EXPORT(batch_norm_grad_dx)
void batch_norm_grad_dx(const float *dy, const float *x, float *dx, int rows, int c,
                        const float *mean, const float *scale, const float *beta, const float *k1,
                        const float *k0, int act, float hi) {
  const int c4 = c & ~3;
  const v128_t top = wasm_f32x4_splat(hi);
  for (int r = 0; r < rows; ++r) {
    const size_t base = (size_t)r * c;
    const float *xr = x + base, *gr = dy + base;
    float *dr = dx + base;
    int ch = 0;
    for (; ch < c4; ch += 4) {
      const v128_t d = wasm_f32x4_sub(load4(xr + ch), load4(mean + ch));
      const v128_t s = load4(scale + ch);
      v128_t g = load4(gr + ch);
      if (act) g = wasm_v128_and(g, pass_mask(madd(load4(beta + ch), d, s), top));
      store4(dr + ch, madd(madd(load4(k0 + ch), d, load4(k1 + ch)), g, s));
    }
    for (; ch < c; ++ch) {
      const float d = xr[ch] - mean[ch];
      float g = gr[ch];
      if (act) g *= pass_scalar(beta[ch] + d * scale[ch], hi);
      dr[ch] = k0[ch] + d * k1[ch] + g * scale[ch];
    }
  }
}
