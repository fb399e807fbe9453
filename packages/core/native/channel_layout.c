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

/*
 * Copies `batch` NHWC images [h][w][c] from src into dst [batch][hp][wp][c] at
 * (pad_top, pad_left), zeroing everything around them: the zero-padded input the depthwise
 * filter gradient indexes without bounds checks. src may be a tensor in tfjs's heap.
 */
GRAFT_EXPORT(pad_images)
void pad_images(const float *src, float *dst, int batch, int h, int w, int c, int hp, int wp,
                int pad_top, int pad_left) {
  const size_t row_in = (size_t)w * c, row_out = (size_t)wp * c;
  const size_t left = (size_t)pad_left * c, right = row_out - left - row_in;
  for (int b = 0; b < batch; ++b) {
    float *image = dst + (size_t)b * hp * row_out;
    __builtin_memset(image, 0, sizeof(float) * (size_t)pad_top * row_out);
    float *row = image + (size_t)pad_top * row_out;
    for (int y = 0; y < h; ++y) {
      __builtin_memset(row, 0, sizeof(float) * left);
      __builtin_memcpy(row + left, src, sizeof(float) * row_in);
      __builtin_memset(row + left + row_in, 0, sizeof(float) * right);
      src += row_in;
      row += row_out;
    }
    __builtin_memset(row, 0, sizeof(float) * (size_t)(hp - pad_top - h) * row_out);
  }
}
