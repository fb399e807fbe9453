/*
 * UnsortedSegmentSum: out[s] = sum of the rows x[i] with ids[i] == s, for rows of `inner`
 * floats. Ids outside [0, segments) are dropped, as tfjs's cpu backend does.
 */
#include "graft_simd.h"

GRAFT_EXPORT(unsorted_segment_sum)
void unsorted_segment_sum(const float *x, const int *ids, float *out, int rows, int inner,
                          int segments) {
  __builtin_memset(out, 0, sizeof(float) * (size_t)segments * inner);
  for (int i = 0; i < rows; ++i) {
    const int s = ids[i];
    if (s < 0 || s >= segments) continue;
    const float *src = x + (size_t)i * inner;
    float *dst = out + (size_t)s * inner;
    int k = 0;
    for (; k + 16 <= inner; k += 16) {
      add_to(dst + k, load4(src + k));
      add_to(dst + k + 4, load4(src + k + 4));
      add_to(dst + k + 8, load4(src + k + 8));
      add_to(dst + k + 12, load4(src + k + 12));
    }
    for (; k + 4 <= inner; k += 4) add_to(dst + k, load4(src + k));
    for (; k < inner; ++k) dst[k] += src[k];
  }
}
