/*
 * The optimizer step over one parameter (src/train/optimizer/optimizerStepKernel.ts,
 * GraftOptimizerStep): the gradient's sum of squares for the global norm, and the Adam and
 * SGD updates.
 *
 * The arithmetic matches the kernel's JavaScript loops (updateAdam / updateSgd) operation for
 * operation, in the same order: SGD in float64 (the loop computes in doubles and rounds to
 * float32 on the store), Adam in float32 (the loop rounds every step with Math.fround). Every
 * operation used (+, -, *, /, sqrt, float32 <-> float64 conversion) is correctly rounded in
 * both, and WebAssembly has no fused multiply-add that could change a rounding, so the results
 * are the same bits. Tails in scalars (the same expressions).
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
 * Adam (updateAdam), in float32 like tfjs's and PyTorch's Adam:
 * g' = g * clip + l2 * p; m' = beta1 * m + keep1 * g'; v' = beta2 * v + keep2 * g' * g';
 * p' = p * keep - lr * m' * unbias1 / (sqrt(v' * unbias2) + eps).
 * keep1 = 1 - beta1, keep2 = 1 - beta2, unbias = 1 / bias correction, keep = 1 - decoupled
 * decay: computed by the caller in float64 as in the JavaScript loop, rounded to float32
 * here as there (Math.fround). Every operation is a float32 one, in the loop's order; the
 * loop rounds each double result to float32, which for +, -, *, / and sqrt of float32
 * operands gives the float32 operation's own result, so both give the same bits. Float32
 * rather than float64: four lanes per vector instead of two, and float64 division and
 * square root are the slow part (0.94 -> 0.28 ms on MobileNetV2-0.35's 396k weights).
 */
GRAFT_EXPORT(adam_update)
void adam_update(const float *p, const float *g, const float *m, const float *v, float *p_out,
                 float *m_out, float *v_out, int n, double clip_d, double lr_d, double l2_d,
                 double keep_d, double beta1_d, double beta2_d, double keep1_d, double keep2_d,
                 double unbias1_d, double unbias2_d, double epsilon_d) {
  const float clip = (float)clip_d, lr = (float)lr_d, l2 = (float)l2_d, keep = (float)keep_d;
  const float beta1 = (float)beta1_d, beta2 = (float)beta2_d;
  const float keep1 = (float)keep1_d, keep2 = (float)keep2_d;
  const float unbias1 = (float)unbias1_d, unbias2 = (float)unbias2_d;
  const float epsilon = (float)epsilon_d;
  const v128_t vclip = wasm_f32x4_splat(clip), vlr = wasm_f32x4_splat(lr);
  const v128_t vl2 = wasm_f32x4_splat(l2), vkeep = wasm_f32x4_splat(keep);
  const v128_t vb1 = wasm_f32x4_splat(beta1), vb2 = wasm_f32x4_splat(beta2);
  const v128_t vk1 = wasm_f32x4_splat(keep1), vk2 = wasm_f32x4_splat(keep2);
  const v128_t vu1 = wasm_f32x4_splat(unbias1), vu2 = wasm_f32x4_splat(unbias2);
  const v128_t veps = wasm_f32x4_splat(epsilon);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t pj = load4(p + i), g0 = load4(g + i), m0 = load4(m + i), v0 = load4(v + i);
    const v128_t gj = wasm_f32x4_add(wasm_f32x4_mul(g0, vclip), wasm_f32x4_mul(vl2, pj));
    const v128_t mj = wasm_f32x4_add(wasm_f32x4_mul(vb1, m0), wasm_f32x4_mul(vk1, gj));
    const v128_t vj =
        wasm_f32x4_add(wasm_f32x4_mul(vb2, v0), wasm_f32x4_mul(wasm_f32x4_mul(vk2, gj), gj));
    const v128_t num = wasm_f32x4_mul(wasm_f32x4_mul(vlr, mj), vu1);
    const v128_t den = wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_mul(vj, vu2)), veps);
    store4(p_out + i, wasm_f32x4_sub(wasm_f32x4_mul(pj, vkeep), wasm_f32x4_div(num, den)));
    store4(m_out + i, mj);
    store4(v_out + i, vj);
  }
  for (; i < n; ++i) {
    const float pj = p[i];
    const float gj = g[i] * clip + l2 * pj;
    const float mj = beta1 * m[i] + keep1 * gj;
    const float vj = beta2 * v[i] + keep2 * gj * gj;
    m_out[i] = mj;
    v_out[i] = vj;
    p_out[i] = pj * keep - (lr * mj * unbias1) / (__builtin_sqrtf(vj * unbias2) + epsilon);
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
