// AVX2 row kernels for quantized weights: one weight row against up to 4 quantized activation
// rows, so each weight block is unpacked once and used 4 times. Integer dots per block:
// unsigned weight quants × signed int8 activations with `maddubs`, pairs summed with `madd`
// (by ones, or by the sub-block scale for the K types), one float scale per block or super-block.
// Offsets (-8, -16, K-type mins, -32) are applied through the activation block sums.
#include "ShardlineKernels.h"
#include "quant_blocks.h"
#include "simd_avx2.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define TGT __attribute__((target("avx2,fma,f16c")))
#define INL static inline __attribute__((always_inline)) TGT

/// f16 -> f32. `_cvtsh_ss` (and a plain movd + cvtph2ps, which LLVM folds back) compiles to
/// `vpinsrw` merging into whatever register is free, often an accumulator: every block's scale
/// then waits on the previous block's FMA. The empty asm makes the zero-extended vector real.
INL float h2f(uint16_t h) {
    __m128i v = _mm_cvtsi32_si128(h);
    __asm__("" : "+x"(v));
    return _mm_cvtss_f32(_mm_cvtph_ps(v));
}

INL __m256i load256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

// ------------------------------------------------------------------ 32-element blocks

/// The 32 quants of a Q4_0/Q5_0 block as signed bytes (q - 8 or q - 16).
INL __m256i unpack_q4q5_0(const uint8_t *wb, const int five) {
    return _mm256_sub_epi8(sl_q4q5_0_quants(wb, five), _mm256_set1_epi8(five ? 16 : 8));
}

INL __m256i unpack_q8_0(const uint8_t *wb, const int five) { (void)five; return load256(wb + 2); }

/// 32-element blocks (Q4_0, Q5_0, Q8_0): signed weights × signed activations through the sign
/// trick (|w| unsigned, x takes w's sign), `maddubs`, pairs summed by `madd`, one scale per block.
/// Two blocks per step into separate accumulators, so the FMA latency chain is not the limit.
#define ROWS_32(NAME, UNPACK, BBYTES, FIVE)                                                            \
INL void NAME(const void *w, size_t n, const uint8_t *x, size_t xs, float *out, size_t os, const int NR) { \
    const size_t nb = n / 32;                                                                          \
    const __m256i ones = _mm256_set1_epi16(1);                                                         \
    __m256 acc0[4], acc1[4];                                                                           \
    for (int k = 0; k < NR; k++) { acc0[k] = _mm256_setzero_ps(); acc1[k] = _mm256_setzero_ps(); }    \
    const uint8_t *wb = w;                                                                             \
    size_t i = 0;                                                                                      \
    for (; i + 2 <= nb; i += 2, wb += 2 * (BBYTES)) {                                                  \
        uint16_t d0, d1;                                                                               \
        memcpy(&d0, wb, 2); memcpy(&d1, wb + (BBYTES), 2);                                             \
        const float dw0 = h2f(d0), dw1 = h2f(d1);                                                      \
        const __m256i q0 = UNPACK(wb, FIVE), q1 = UNPACK(wb + (BBYTES), FIVE);                         \
        const __m256i a0 = _mm256_sign_epi8(q0, q0), a1 = _mm256_sign_epi8(q1, q1);                    \
        for (int k = 0; k < NR; k++) {                                                                 \
            const sl_act_q8_32 *a = (const sl_act_q8_32 *)(x + k * xs) + i;                           \
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(a0, _mm256_sign_epi8(load256(a[0].qs), q0)), ones); \
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(a1, _mm256_sign_epi8(load256(a[1].qs), q1)), ones); \
            acc0[k] = _mm256_fmadd_ps(_mm256_set1_ps(dw0 * a[0].d), _mm256_cvtepi32_ps(p0), acc0[k]);   \
            acc1[k] = _mm256_fmadd_ps(_mm256_set1_ps(dw1 * a[1].d), _mm256_cvtepi32_ps(p1), acc1[k]);   \
        }                                                                                              \
    }                                                                                                  \
    if (i < nb) {                                                                                      \
        uint16_t d0;                                                                                   \
        memcpy(&d0, wb, 2);                                                                            \
        const float dw0 = h2f(d0);                                                                     \
        const __m256i q0 = UNPACK(wb, FIVE), a0 = _mm256_sign_epi8(q0, q0);                            \
        for (int k = 0; k < NR; k++) {                                                                 \
            const sl_act_q8_32 *a = (const sl_act_q8_32 *)(x + k * xs) + i;                           \
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(a0, _mm256_sign_epi8(load256(a[0].qs), q0)), ones); \
            acc0[k] = _mm256_fmadd_ps(_mm256_set1_ps(dw0 * a[0].d), _mm256_cvtepi32_ps(p0), acc0[k]);   \
        }                                                                                              \
    }                                                                                                  \
    for (int k = 0; k < NR; k++) out[k * os] = sl_hsum_ps(_mm256_add_ps(acc0[k], acc1[k]));              \
}

ROWS_32(rows_q4_0, unpack_q4q5_0, sizeof(sl_block_q4_0), 0)
ROWS_32(rows_q5_0, unpack_q4q5_0, sizeof(sl_block_q5_0), 1)
ROWS_32(rows_q8_0, unpack_q8_0, sizeof(sl_block_q8_0), 0)

// ------------------------------------------------------------------ K super-blocks

/// Q4_K and Q5_K: per 64 elements, low nibbles are sub-block 2j and high nibbles 2j + 1; each
/// sub-block's int16 pair sums are multiplied by its 6-bit scale in `madd`. Mins go through
/// the activation's 16-element sums.
INL void rows_q45_K(const void *w, size_t n, const uint8_t *x, size_t xs, float *out, size_t os,
                    const int NR, const int five) {
    const size_t nb = n / 256;
    const size_t bbytes = five ? sizeof(sl_block_q5_K) : sizeof(sl_block_q4_K);
    __m256 acc[4];
    float corr[4];
    for (int k = 0; k < NR; k++) { acc[k] = _mm256_setzero_ps(); corr[k] = 0; }
    const uint8_t *wb = w;
    for (size_t i = 0; i < nb; i++, wb += bbytes) {
        uint16_t dbits, mbits;
        memcpy(&dbits, wb, 2);
        memcpy(&mbits, wb + 2, 2);
        const float d = h2f(dbits), dmin = h2f(mbits);
        uint32_t s0, s1, m0, m1;
        sl_k_scale_words(wb + 4, &s0, &s1, &m0, &m1);
        const __m128i mins = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)m1, (int)m0));
        const __m256i scales = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)s1, (int)s0)));
        const uint8_t *qs = wb + (five ? 48 : 16);
        __m256i hbits = _mm256_setzero_si256();
        if (five) hbits = load256(wb + 16);

        __m256i isum[4];
        for (int k = 0; k < NR; k++) isum[k] = _mm256_setzero_si256();
        for (int j = 0; j < 4; j++) {
            __m256i lo, hi;
            sl_q45_K_quants(load256(qs + 32 * j), hbits, j, five, &lo, &hi);
            const __m256i slo = _mm256_shuffle_epi8(scales, _mm256_set1_epi16((short)((4 * j) | ((4 * j + 1) << 8))));
            const __m256i shi = _mm256_shuffle_epi8(scales, _mm256_set1_epi16((short)((4 * j + 2) | ((4 * j + 3) << 8))));
            for (int k = 0; k < NR; k++) {
                const sl_act_q8_K *a = (const sl_act_q8_K *)(x + k * xs) + i;
                const __m256i plo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, load256(a->qs + 64 * j)), slo);
                const __m256i phi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, load256(a->qs + 64 * j + 32)), shi);
                isum[k] = _mm256_add_epi32(isum[k], _mm256_add_epi32(plo, phi));
            }
        }
        for (int k = 0; k < NR; k++) {
            const sl_act_q8_K *a = (const sl_act_q8_K *)(x + k * xs) + i;
            const __m128i bs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)a->bsums),
                                              _mm_loadu_si128((const __m128i *)(a->bsums + 8)));
            const int msum = sl_hsum_epi32_128(_mm_madd_epi16(mins, bs));
            acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(d * a->d), _mm256_cvtepi32_ps(isum[k]), acc[k]);
            corr[k] = fmaf(dmin * a->d, (float)msum, corr[k]);  // one rounding, as quant_repack_k.c repeats
        }
    }
    for (int k = 0; k < NR; k++) out[k * os] = sl_hsum_ps(acc[k]) - corr[k];
}

/// Q6_K: 6-bit unsigned quants (0..63) from ql nibbles and qh bit pairs; the -32 offset is
/// Σ scale·32·bsum, one `madd` of the 16 scales with the 16 activation sums.
INL void rows_q6_K(const void *w, size_t n, const uint8_t *x, size_t xs, float *out, size_t os, const int NR) {
    const size_t nb = n / 256;
    __m256 acc[4];
    for (int k = 0; k < NR; k++) acc[k] = _mm256_setzero_ps();
    const sl_block_q6_K *b = w;
    for (size_t i = 0; i < nb; i++, b++) {
        const float d = h2f(b->d);
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b->scales));
        __m256i isum[4];
        for (int k = 0; k < NR; k++) {
            const sl_act_q8_K *a = (const sl_act_q8_K *)(x + k * xs) + i;
            const __m256i off = _mm256_madd_epi16(sc16, load256(a->bsums));
            isum[k] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(off, 5));
        }
        for (int h = 0; h < 2; h++) {
            __m256i e[4];
            sl_q6_K_quants(b, h, e);
            // scales 8h..8h+7 as int16 in both 128-bit lanes; group g uses 2g (low lane), 2g+1 (high lane)
            const __m256i sh = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(b->scales + 8 * h))));
            for (int g = 0; g < 4; g++) {
                const __m256i ctrl = _mm256_setr_m128i(_mm_set1_epi16((short)((4 * g) | ((4 * g + 1) << 8))),
                                                       _mm_set1_epi16((short)((4 * g + 2) | ((4 * g + 3) << 8))));
                const __m256i sg = _mm256_shuffle_epi8(sh, ctrl);
                for (int k = 0; k < NR; k++) {
                    const sl_act_q8_K *a = (const sl_act_q8_K *)(x + k * xs) + i;
                    const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(e[g], load256(a->qs + 128 * h + 32 * g)), sg);
                    isum[k] = _mm256_add_epi32(isum[k], p);
                }
            }
        }
        for (int k = 0; k < NR; k++) {
            const sl_act_q8_K *a = (const sl_act_q8_K *)(x + k * xs) + i;
            acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(d * a->d), _mm256_cvtepi32_ps(isum[k]), acc[k]);
        }
    }
    for (int k = 0; k < NR; k++) out[k * os] = sl_hsum_ps(acc[k]);
}

// ------------------------------------------------------------------ float weights, f32 activations

INL __m256 load8_f16(const uint8_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
INL __m256 load8_bf16(const uint8_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}
INL __m256 load8_f32(const uint8_t *p) { return _mm256_loadu_ps((const float *)p); }

INL float scalar_w(const uint8_t *p, int kind) {  // kind: 0 f32, 1 f16, 2 bf16
    if (kind == 0) { float f; memcpy(&f, p, 4); return f; }
    uint16_t h;
    memcpy(&h, p, 2);
    if (kind == 1) return h2f(h);
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

INL __m256 load8_w(const uint8_t *p, int kind) {
    return kind == 0 ? load8_f32(p) : (kind == 1 ? load8_f16(p) : load8_bf16(p));
}

INL void rows_float(const void *w, size_t n, const uint8_t *x, size_t xs, float *out, size_t os,
                    const int NR, const int kind) {
    const size_t es = kind == 0 ? 4 : 2;
    const uint8_t *wb = w;
    __m256 acc[4], acc2[4];
    for (int k = 0; k < NR; k++) { acc[k] = _mm256_setzero_ps(); acc2[k] = _mm256_setzero_ps(); }
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 w0 = load8_w(wb + i * es, kind), w1 = load8_w(wb + (i + 8) * es, kind);
        for (int k = 0; k < NR; k++) {
            const float *xk = (const float *)(x + k * xs);
            acc[k] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xk + i), acc[k]);
            acc2[k] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xk + i + 8), acc2[k]);
        }
    }
    for (int k = 0; k < NR; k++) {
        const float *xk = (const float *)(x + k * xs);
        float s = sl_hsum_ps(_mm256_add_ps(acc[k], acc2[k]));
        for (size_t t = i; t < n; t++) s += scalar_w(wb + t * es, kind) * xk[t];
        out[k * os] = s;
    }
}

// ------------------------------------------------------------------ NR specializations

#define SL_ROWS_ENTRY(name, call)                                                               \
    TGT static void name(const void *w, size_t n, const void *xv, size_t xs, size_t nr,        \
                         float *out, size_t os) {                                               \
        const uint8_t *x = xv;                                                                  \
        switch (nr) {                                                                           \
        case 1: call(1); break;                                                                 \
        case 2: call(2); break;                                                                 \
        case 3: call(3); break;                                                                 \
        default: call(4); break;                                                                \
        }                                                                                       \
    }

#define CALL_Q4_0(NR) rows_q4_0(w, n, x, xs, out, os, NR)
#define CALL_Q5_0(NR) rows_q5_0(w, n, x, xs, out, os, NR)
#define CALL_Q8_0(NR) rows_q8_0(w, n, x, xs, out, os, NR)
#define CALL_Q4_K(NR) rows_q45_K(w, n, x, xs, out, os, NR, 0)
#define CALL_Q5_K(NR) rows_q45_K(w, n, x, xs, out, os, NR, 1)
#define CALL_Q6_K(NR) rows_q6_K(w, n, x, xs, out, os, NR)
#define CALL_F32(NR) rows_float(w, n, x, xs, out, os, NR, 0)
#define CALL_F16(NR) rows_float(w, n, x, xs, out, os, NR, 1)
#define CALL_BF16(NR) rows_float(w, n, x, xs, out, os, NR, 2)

SL_ROWS_ENTRY(avx2_q4_0, CALL_Q4_0)
SL_ROWS_ENTRY(avx2_q5_0, CALL_Q5_0)
SL_ROWS_ENTRY(avx2_q8_0, CALL_Q8_0)
SL_ROWS_ENTRY(avx2_q4_K, CALL_Q4_K)
SL_ROWS_ENTRY(avx2_q5_K, CALL_Q5_K)
SL_ROWS_ENTRY(avx2_q6_K, CALL_Q6_K)
SL_ROWS_ENTRY(avx2_f32, CALL_F32)
SL_ROWS_ENTRY(avx2_f16, CALL_F16)
SL_ROWS_ENTRY(avx2_bf16, CALL_BF16)

sl_quant_rows_fn sl_quant_rows_avx2(int type) {
    switch (type) {
    case SL_QTYPE_F32: return avx2_f32;
    case SL_QTYPE_F16: return avx2_f16;
    case SL_QTYPE_BF16: return avx2_bf16;
    case SL_QTYPE_Q4_0: return avx2_q4_0;
    case SL_QTYPE_Q5_0: return avx2_q5_0;
    case SL_QTYPE_Q8_0: return avx2_q8_0;
    case SL_QTYPE_Q4_K: return avx2_q4_K;
    case SL_QTYPE_Q5_K: return avx2_q5_K;
    case SL_QTYPE_Q6_K: return avx2_q6_K;
    default: return 0;
    }
}

#else
sl_quant_rows_fn sl_quant_rows_avx2(int type) { (void)type; return 0; }
#endif
