// GGML block bit layouts, unpacked once for every kernel that reads them (quant_ref.c,
// quant_avx2.c row kernels, quant_tile_avx2.c tiles, quant_repack_x8.c decode). Internal to
// the C target: one copy of each layout's bit twiddling.
#ifndef SL_QUANT_BLOCKS_H
#define SL_QUANT_BLOCKS_H

#include "ShardlineKernels.h"
#include <string.h>

/// The 6-bit scales and mins of a Q4_K/Q5_K super-block (its 12 packed bytes at q) as four
/// words of four bytes: s0 = sc[0..3], s1 = sc[4..7], m0 = m[0..3], m1 = m[4..7].
/// Bytes 0-3 hold sc[0..3] and the top 2 bits of sc[4..7], bytes 4-7 likewise for the mins,
/// bytes 8-11 the low 4 bits of sc[4..7] and m[4..7].
static inline void sl_k_scale_words(const uint8_t *q, uint32_t *s0, uint32_t *s1, uint32_t *m0, uint32_t *m1) {
    uint32_t a, b, c;
    memcpy(&a, q, 4); memcpy(&b, q + 4, 4); memcpy(&c, q + 8, 4);
    *s0 = a & 0x3f3f3f3fu;
    *m0 = b & 0x3f3f3f3fu;
    *s1 = (c & 0x0f0f0f0fu) | ((a >> 2) & 0x30303030u);
    *m1 = ((c >> 4) & 0x0f0f0f0fu) | ((b >> 2) & 0x30303030u);
}

#if defined(__x86_64__)
#include <immintrin.h>
#define SL_BLOCKS_INL static inline __attribute__((always_inline, target("avx2,fma,f16c")))

/// The sum of the four int32 lanes.
SL_BLOCKS_INL int sl_hsum_epi32_128(__m128i v) {
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(v);
}

/// 32 bytes, byte j = 0x10 if bit j of `bits` is set, else 0.
SL_BLOCKS_INL __m256i sl_bits_to_0x10(uint32_t bits) {
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bitsel = _mm256_set1_epi64x(0x8040201008040201LL);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), spread);
    v = _mm256_cmpeq_epi8(_mm256_and_si256(v, bitsel), bitsel);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

/// The 32 quants of a Q4_0 or Q5_0 block at wb, unsigned (0..15 or 0..31, before the -8/-16 offset).
SL_BLOCKS_INL __m256i sl_q4q5_0_quants(const uint8_t *wb, const int five) {
    const __m128i raw = _mm_loadu_si128((const __m128i *)(wb + (five ? 6 : 2)));
    const __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0f));
    if (!five) return q;
    uint32_t qh;
    memcpy(&qh, wb + 2, 4);
    return _mm256_or_si256(q, sl_bits_to_0x10(qh));
}

/// Q4_K/Q5_K: the 32 quant bytes j (0..3) of a super-block hold sub-block 2j in the low nibbles
/// and 2j + 1 in the high; for Q5_K bit 2j / 2j + 1 of each byte of `hbits` (the 32 qh bytes)
/// is the 5th bit. Unsigned quants.
SL_BLOCKS_INL void sl_q45_K_quants(__m256i raw, __m256i hbits, int j, const int five, __m256i *lo, __m256i *hi) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), one8 = _mm256_set1_epi8(1);
    *lo = _mm256_and_si256(raw, m4);
    *hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
    if (five) {
        *lo = _mm256_or_si256(*lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * j), one8), 4));
        *hi = _mm256_or_si256(*hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * j + 1), one8), 4));
    }
}

/// Q6_K half h (elements 128h..128h+127): e[g] = elements 128h + 32g .. + 31, unsigned 0..63
/// (before the -32 offset), from the ql nibbles and the qh bit pairs.
SL_BLOCKS_INL void sl_q6_K_quants(const sl_block_q6_K *b, int h, __m256i e[4]) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3);
    const __m256i q0 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h));
    const __m256i q1 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h + 32));
    const __m256i qh = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
    e[0] = _mm256_or_si256(_mm256_and_si256(q0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4));
    e[1] = _mm256_or_si256(_mm256_and_si256(q1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4));
    e[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q0, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4));
    e[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4));
}

/// Chunk j's 0x10s from a repacked Q5_0 high-bit plane (bit j of each byte moved to bit 4;
/// 16-bit shifts only carry in bits the mask drops).
SL_BLOCKS_INL __m256i sl_x8_high_bits(__m256i plane, int j) {
    const __m256i v = j < 4 ? _mm256_slli_epi16(plane, 4 - j) : _mm256_srli_epi16(plane, j - 4);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

/// Chunks j (low nibbles) and j + 4 (high nibbles) of a repacked Q4_0/Q5_0 group block at g
/// (j < 4), unsigned; for Q5_0 `plane` is the block's high-bit plane.
SL_BLOCKS_INL void sl_x8_q45_chunks(const uint8_t *g, __m256i plane, int j, const int five, __m256i *lo, __m256i *hi) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), v = _mm256_loadu_si256((const __m256i *)(g + 16 + 32 * j));
    *lo = _mm256_and_si256(v, m4);
    *hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    if (five) {
        *lo = _mm256_or_si256(*lo, sl_x8_high_bits(plane, j));
        *hi = _mm256_or_si256(*hi, sl_x8_high_bits(plane, j + 4));
    }
}
#endif
#endif
