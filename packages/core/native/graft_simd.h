/*
 * Shared helpers for graft's WebAssembly SIMD kernels.
 *
 * The module is freestanding (no libc): memset/memcpy come from -mbulk-memory, which lowers
 * them to the memory.fill / memory.copy instructions. It imports its memory, which in
 * zero-copy mode is tfjs's heap (src/native/nativeKernels.ts), so it must write only through
 * the pointers it is given: no static data (no data segment) and no local arrays or anything
 * else that needs the shadow stack. scripts/build-native.mjs fails the build otherwise.
 */
#ifndef GRAFT_SIMD_H
#define GRAFT_SIMD_H

#include <stddef.h>
#include <wasm_simd128.h>

#define GRAFT_EXPORT(name) __attribute__((export_name(#name)))

/* Unaligned 4-float load/store: NHWC rows with odd channel counts are not 16-byte aligned. */
static inline v128_t load4(const float *p) { return wasm_v128_load(p); }
static inline void store4(float *p, v128_t v) { wasm_v128_store(p, v); }

/* acc + a * b. WebAssembly SIMD has no fused multiply-add (relaxed-simd is not baseline). */
static inline v128_t madd(v128_t acc, v128_t a, v128_t b) {
  return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b));
}

/* Adds v to the 4 floats at p. */
static inline void add_to(float *p, v128_t v) { store4(p, wasm_f32x4_add(load4(p), v)); }

/* Rounds a channel count up to whole 4-float vectors. */
static inline int round_up4(int n) { return (n + 3) & ~3; }

/*
 * Output pixels per tile for the depthwise kernels: a tile's dy pixels and the kh input rows
 * they touch (about kh*stride+1 pixels per output pixel, of `channels` floats) should take
 * about half of a 32 KiB L1 data cache, leaving room for the accumulators.
 */
static inline int tile_pixels(int channels, int kh, int stride) {
  const int bytes_per_pixel = (kh * stride + 1) * channels * 4;
  const int t = (16 * 1024) / bytes_per_pixel;
  return t < 4 ? 4 : t;
}

#endif
