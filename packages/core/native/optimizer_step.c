/*
 * The optimizer step over one parameter (src/train/optimizer/optimizerStepKernel.ts,
 * GraftOptimizerStep): the gradient's sum of squares for the global norm, and the Adam and
 * SGD updates.
 *
 * The arithmetic is float64, with the same operations in the same order as the kernel's
 * JavaScript loops (updateAdam / updateSgd), which compute in doubles and round to float32
 * on the store: every operation used here (+, -, *, /, sqrt, float32 <-> float64 conversion)
 * is correctly rounded in both, and WebAssembly has no fused multiply-add that could change a
 * rounding, so the results are the same bits. Two float32 lanes at a time in f64x2 vectors;
 * tails in scalars (the same expressions).
 *
 * The new parameters go to a new tensor; the state outputs (m_out, v_out, vel_out) are the
 * state inputs themselves (updated in place), which is safe because each block of 4 floats is
 * loaded before it is stored. Nothing is read or written past n floats.
 */
#include "graft_simd.h"

/* The float64 values of lanes 0-1 and 2-3 of a float32 vector. */
static inline v128_t lo2(v128_t v) { return wasm_f64x2_promote_low_f32x4(v); }
static inline v128_t hi2(v128_t v) {
  return wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 2, 3));
}

/* Stores float32(lo[0]), float32(lo[1]), float32(hi[0]), float32(hi[1]) at p. */
static inline void store_f64x4(float *p, v128_t lo, v128_t hi) {
  const v128_t a = wasm_f32x4_demote_f64x2_zero(lo), b = wasm_f32x4_demote_f64x2_zero(hi);
  store4(p, wasm_i32x4_shuffle(a, b, 0, 1, 4, 5));
}

/*
 * sum(x[i]^2) in float64. Each square of a float32 is exact in float64; the sum runs in 8
 * interleaved float64 partial sums, so it may round differently from a sequential sum, by
 * about n * 2^-53 relative at most.
 */
GRAFT_EXPORT(sum_squares)
double sum_squares(const float *x, int n) {
  v128_t s0 = wasm_f64x2_splat(0.0), s1 = s0, s2 = s0, s3 = s0;
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const v128_t a = load4(x + i), b = load4(x + i + 4);
    const v128_t a0 = lo2(a), a1 = hi2(a), b0 = lo2(b), b1 = hi2(b);
    s0 = wasm_f64x2_add(s0, wasm_f64x2_mul(a0, a0));
    s1 = wasm_f64x2_add(s1, wasm_f64x2_mul(a1, a1));
    s2 = wasm_f64x2_add(s2, wasm_f64x2_mul(b0, b0));
    s3 = wasm_f64x2_add(s3, wasm_f64x2_mul(b1, b1));
  }
  const v128_t s = wasm_f64x2_add(wasm_f64x2_add(s0, s1), wasm_f64x2_add(s2, s3));
  double total = wasm_f64x2_extract_lane(s, 0) + wasm_f64x2_extract_lane(s, 1);
  for (; i < n; ++i) total += (double)x[i] * (double)x[i];
  return total;
}

/*
 * Adam (updateAdam): g' = g * clip + l2 * p; m' = beta1 * m + keep1 * g';
 * v' = beta2 * v + keep2 * g' * g'; p' = p * keep - lr * m' * unbias1 / (sqrt(v' * unbias2) + eps).
 * keep1 = 1 - beta1, keep2 = 1 - beta2, unbias = 1 / bias correction, keep = 1 - decoupled
 * decay, all computed by the caller as in the JavaScript loop.
 */
GRAFT_EXPORT(adam_update)
void adam_update(const float *p, const float *g, const float *m, const float *v, float *p_out,
                 float *m_out, float *v_out, int n, double clip, double lr, double l2, double keep,
                 double beta1, double beta2, double keep1, double keep2, double unbias1,
                 double unbias2, double epsilon) {
  const v128_t vclip = wasm_f64x2_splat(clip), vlr = wasm_f64x2_splat(lr);
  const v128_t vl2 = wasm_f64x2_splat(l2), vkeep = wasm_f64x2_splat(keep);
  const v128_t vb1 = wasm_f64x2_splat(beta1), vb2 = wasm_f64x2_splat(beta2);
  const v128_t vk1 = wasm_f64x2_splat(keep1), vk2 = wasm_f64x2_splat(keep2);
  const v128_t vu1 = wasm_f64x2_splat(unbias1), vu2 = wasm_f64x2_splat(unbias2);
  const v128_t veps = wasm_f64x2_splat(epsilon);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t p4 = load4(p + i), g4 = load4(g + i), m4 = load4(m + i), v4 = load4(v + i);
    v128_t po[2], mo[2], vo[2];
    for (int h = 0; h < 2; ++h) {
      const v128_t pj = h ? hi2(p4) : lo2(p4);
      const v128_t gj0 = h ? hi2(g4) : lo2(g4);
      const v128_t mj0 = h ? hi2(m4) : lo2(m4);
      const v128_t vj0 = h ? hi2(v4) : lo2(v4);
      const v128_t gj = wasm_f64x2_add(wasm_f64x2_mul(gj0, vclip), wasm_f64x2_mul(vl2, pj));
      const v128_t mj = wasm_f64x2_add(wasm_f64x2_mul(vb1, mj0), wasm_f64x2_mul(vk1, gj));
      const v128_t vj = wasm_f64x2_add(wasm_f64x2_mul(vb2, vj0),
                                       wasm_f64x2_mul(wasm_f64x2_mul(vk2, gj), gj));
      const v128_t num = wasm_f64x2_mul(wasm_f64x2_mul(vlr, mj), vu1);
      const v128_t den = wasm_f64x2_add(wasm_f64x2_sqrt(wasm_f64x2_mul(vj, vu2)), veps);
      po[h] = wasm_f64x2_sub(wasm_f64x2_mul(pj, vkeep), wasm_f64x2_div(num, den));
      mo[h] = mj;
      vo[h] = vj;
    }
    store_f64x4(p_out + i, po[0], po[1]);
    store_f64x4(m_out + i, mo[0], mo[1]);
    store_f64x4(v_out + i, vo[0], vo[1]);
  }
  for (; i < n; ++i) {
    const double pj = p[i];
    const double gj = (double)g[i] * clip + l2 * pj;
    const double mj = beta1 * (double)m[i] + keep1 * gj;
    const double vj = beta2 * (double)v[i] + keep2 * gj * gj;
    m_out[i] = (float)mj;
    v_out[i] = (float)vj;
    p_out[i] = (float)(pj * keep - (lr * mj * unbias1) / (__builtin_sqrt(vj * unbias2) + epsilon));
  }
}

/*
 * SGD (updateSgd): g' = g * clip + l2 * p; with momentum (has_velocity) v' = momentum * v + g'
 * and the step is g' + momentum * v' (nesterov) or v', else the step is g';
 * p' = p * keep - lr * step. vel / vel_out are not touched without momentum.
 */
GRAFT_EXPORT(sgd_update)
void sgd_update(const float *p, const float *g, const float *vel, float *p_out, float *vel_out,
                int n, double clip, double lr, double l2, double keep, int has_velocity,
                double momentum, int nesterov) {
  const v128_t vclip = wasm_f64x2_splat(clip), vlr = wasm_f64x2_splat(lr);
  const v128_t vl2 = wasm_f64x2_splat(l2), vkeep = wasm_f64x2_splat(keep);
  const v128_t vmom = wasm_f64x2_splat(momentum);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t p4 = load4(p + i), g4 = load4(g + i);
    const v128_t w4 = has_velocity ? load4(vel + i) : wasm_f32x4_splat(0.f);
    v128_t po[2], wo[2];
    for (int h = 0; h < 2; ++h) {
      const v128_t pj = h ? hi2(p4) : lo2(p4);
      const v128_t gj0 = h ? hi2(g4) : lo2(g4);
      const v128_t gj = wasm_f64x2_add(wasm_f64x2_mul(gj0, vclip), wasm_f64x2_mul(vl2, pj));
      v128_t step = gj;
      wo[h] = gj;
      if (has_velocity) {
        const v128_t wj = wasm_f64x2_add(wasm_f64x2_mul(vmom, h ? hi2(w4) : lo2(w4)), gj);
        wo[h] = wj;
        step = nesterov ? wasm_f64x2_add(gj, wasm_f64x2_mul(vmom, wj)) : wj;
      }
      po[h] = wasm_f64x2_sub(wasm_f64x2_mul(pj, vkeep), wasm_f64x2_mul(vlr, step));
    }
    store_f64x4(p_out + i, po[0], po[1]);
    if (has_velocity) store_f64x4(vel_out + i, wo[0], wo[1]);
  }
  for (; i < n; ++i) {
    const double pj = p[i];
    const double gj = (double)g[i] * clip + l2 * pj;
    double step = gj;
    if (has_velocity) {
      const double wj = momentum * (double)vel[i] + gj;
      vel_out[i] = (float)wj;
      step = nesterov ? gj + momentum * wj : wj;
    }
    p_out[i] = (float)(pj * keep - lr * step);
  }
}
