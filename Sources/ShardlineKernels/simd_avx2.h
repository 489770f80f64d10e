// Small AVX2 helpers the kernel files share (internal: not part of the module's API).
#ifndef SHARDLINE_SIMD_AVX2_H
#define SHARDLINE_SIMD_AVX2_H
#if defined(__x86_64__)
#include <immintrin.h>

/// The sum of v's eight lanes, in one fixed order (halves, then pairs, then the last two), so
/// every kernel that ends in it rounds alike.
static inline __attribute__((always_inline, target("avx2"))) float sl_hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

#endif
#endif
