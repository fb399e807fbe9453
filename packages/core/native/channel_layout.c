/*
 * Layout helpers the depthwise kernels share.
 */
#include "graft_simd.h"

/*
 * dst[p][k*m + j] = src[p][k] for every pixel p: repeats each of the c input channels m times
 * so that a depthwise filter gradient with channel multiplier m becomes one with multiplier 1
 * over c*m channels, in exactly the [.., c, m] order tfjs uses.
 */
GRAFT_EXPORT(expand_channels)
void expand_channels(const float *src, float *dst, int pixels, int c, int m) {
  for (int p = 0; p < pixels; ++p) {
    for (int k = 0; k < c; ++k) {
      const float v = src[k];
      for (int j = 0; j < m; ++j) dst[j] = v;
      dst += m;
    }
    src += c;
  }
}

/* dst[r][0..d) = src[r][0..d) with dst rows round_up4(d) floats long and zeros after d. */
GRAFT_EXPORT(pad_channels)
void pad_channels(const float *src, float *dst, int rows, int d) {
  const int dp = round_up4(d);
  for (int r = 0; r < rows; ++r) {
    __builtin_memcpy(dst, src, sizeof(float) * d);
    for (int c = d; c < dp; ++c) dst[c] = 0.f;
    src += d;
    dst += dp;
  }
}

/* The inverse of pad_channels: drops the padding lanes of rows round_up4(d) floats long. */
GRAFT_EXPORT(compact_channels)
void compact_channels(const float *src, float *dst, int rows, int d) {
  const int dp = round_up4(d);
  for (int r = 0; r < rows; ++r) {
    __builtin_memcpy(dst, src, sizeof(float) * d);
    src += dp;
    dst += d;
  }
}
