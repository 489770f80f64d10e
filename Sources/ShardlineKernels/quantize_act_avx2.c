// Activation quantization with AVX2 (q8_32 blocks for Q4_0/Q5_0/Q8_0 weights, q8_K for the K
// types): the same float steps as the scalar code in quant_ref.c (|x| max, d = amax / 127,
// x * (1 / d) rounded by the 1.5 * 2^23 trick, clamp to ±127), so the bytes are identical; a
// test compares both. The scalar loop ran on the engine thread before every matmul while the
// pool's other thread waited: ~1% of batch-1 decode.
#include "ShardlineKernels.h"
#include "quant_blocks.h"
#if defined(__x86_64__)
#include <immintrin.h>
#define TGT __attribute__((target("avx2,fma,f16c")))  // quant_blocks.h's helpers' target
#define INL static inline __attribute__((always_inline)) TGT

INL float block_amax(const float *x, size_t n) {
    const __m256 abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 m = _mm256_setzero_ps();
    for (size_t j = 0; j < n; j += 8) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + j), abs));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

/// 8 values of x * id rounded to nearest even and clamped to ±127, as int32.
INL __m256i quantize8(const float *x, __m256 id) {
    // A separate multiply and add (no FMA), as the scalar round_nearest(x * id) does.
    const __m256 t = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(x), id), _mm256_set1_ps(12582912.0f));
    const __m256i q = _mm256_sub_epi32(_mm256_and_si256(_mm256_castps_si256(t), _mm256_set1_epi32(0x7fffff)),
                                       _mm256_set1_epi32(0x400000));
    return _mm256_max_epi32(_mm256_min_epi32(q, _mm256_set1_epi32(127)), _mm256_set1_epi32(-127));
}

INL int hsum8(__m256i v) {
    return sl_hsum_epi32_128(_mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
}

/// Quantizes 32 values into `qs`; returns the sums of elements 0..15 and 16..31.
INL void quantize32(const float *x, __m256 id, int8_t *qs, int *sum_lo, int *sum_hi) {
    const __m256i a = quantize8(x, id), b = quantize8(x + 8, id), c = quantize8(x + 16, id), d = quantize8(x + 24, id);
    // packs interleave 128-bit lanes: the permute puts the 4-byte groups back in order.
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
    _mm256_storeu_si256((__m256i *)qs, _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    *sum_lo = hsum8(_mm256_add_epi32(a, b));
    *sum_hi = hsum8(_mm256_add_epi32(c, d));
}

TGT int sl_quantize_act_row_avx2(int kind, const float *x, void *dst, size_t n) {
    if (kind == 1) {
        sl_act_q8_32 *b = dst;
        for (size_t i = 0; i < n / 32; i++, b++, x += 32) {
            const float amax = block_amax(x, 32), d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
            int lo, hi;
            quantize32(x, _mm256_set1_ps(id), b->qs, &lo, &hi);
            b->d = d;
            b->s = d * (float)(lo + hi);
        }
        return 1;
    }
    if (kind == 2) {
        sl_act_q8_K *b = dst;
        for (size_t i = 0; i < n / 256; i++, b++, x += 256) {
            const float amax = block_amax(x, 256), d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
            const __m256 idv = _mm256_set1_ps(id);
            for (int g = 0; g < 8; g++) {
                int lo, hi;
                quantize32(x + 32 * g, idv, b->qs + 32 * g, &lo, &hi);
                b->bsums[2 * g] = (int16_t)lo;
                b->bsums[2 * g + 1] = (int16_t)hi;
            }
            b->d = d;
        }
        return 1;
    }
    return 0;
}
#endif
