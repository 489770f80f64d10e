// Q4_K weights repacked 8 rows at a time for decode, in the same number of bytes as GGML's rows.
// The row kernel (quant_avx2.c) is compute-bound near 20 GB/s per thread on Zen 4: per 256
// weights it unpacks the 6-bit scales in scalar code, broadcasts each sub-block scale, and takes
// a horizontal sum of the mins. Eight rows side by side do that work once for 8 rows in SIMD lanes.
//
// Bitwise the same results as the row kernel, so greedy outputs do not move: the row kernel
// keeps 8 int32 lanes per row and super-block (lane l: Σ over the 8 sub-blocks of scale × the dot
// of elements 4l..4l+3), one FMA per lane, the mins' integer sum in one scalar FMA, then a fixed
// horizontal sum. Here vector l holds lane l of 8 rows, and the same float steps run lane-wise.
//
// Per group of 8 rows and super-block (1152 bytes = 8 × 144):
//   [0, 16) d of rows 0..7 (f16)       [16, 32) dmin (f16)
//   [32, 128) the 12 packed scale bytes as 3 words per row: word k of rows 0..7 at 32 + 32k
//   [128, 1152) quant chunks: chunk (l, j) at 128 + 32 (4l + j) holds bytes 32j + 4l .. + 3 of
//   rows 0..7 side by side (low nibbles: sub-block 2j, elements 4l..4l+3; high: sub-block 2j + 1).
// Four activation rows or more go through the byte tile (quant_tile_avx2.c) from the 8 rows
// unpacked back to GGML's layout, as do CPUs without AVX2.
#include "ShardlineKernels.h"
#include "quant_blocks.h"
#include "quant_tile.h"
#include <stdlib.h>
#include <string.h>

#define Q4K_GROUP_BYTES (8 * sizeof(sl_block_q4_K))

size_t sl_q4k_x8_repack(const void *src, size_t rows, size_t n, void *dst) {
    if (rows % 8 != 0 || n % 256 != 0) return 0;
    const size_t nsuper = n / 256, rowb = nsuper * sizeof(sl_block_q4_K);
    const uint8_t *s = src;
    uint8_t *d = dst;
    for (size_t g = 0; g < rows / 8; g++) {
        for (size_t i = 0; i < nsuper; i++, d += Q4K_GROUP_BYTES) {
            for (int r = 0; r < 8; r++) {
                const uint8_t *blk = s + (8 * g + r) * rowb + i * sizeof(sl_block_q4_K);
                memcpy(d + 2 * r, blk, 2);
                memcpy(d + 16 + 2 * r, blk + 2, 2);
                for (int k = 0; k < 3; k++) memcpy(d + 32 + 32 * k + 4 * r, blk + 4 + 4 * k, 4);
                for (int l = 0; l < 8; l++)
                    for (int j = 0; j < 4; j++) memcpy(d + 128 + 32 * (4 * l + j) + 4 * r, blk + 16 + 32 * j + 4 * l, 4);
            }
        }
    }
    return rows * rowb;
}

/// Group g back in GGML's layout: 8 rows of n / 256 blocks at out.
static void unpack_group(const uint8_t *w, size_t n, size_t g, uint8_t *out) {
    const size_t nsuper = n / 256, rowb = nsuper * sizeof(sl_block_q4_K);
    const uint8_t *p = w + g * nsuper * Q4K_GROUP_BYTES;
    for (size_t i = 0; i < nsuper; i++, p += Q4K_GROUP_BYTES) {
        for (int r = 0; r < 8; r++) {
            uint8_t *blk = out + r * rowb + i * sizeof(sl_block_q4_K);
            memcpy(blk, p + 2 * r, 2);
            memcpy(blk + 2, p + 16 + 2 * r, 2);
            for (int k = 0; k < 3; k++) memcpy(blk + 4 + 4 * k, p + 32 + 32 * k + 4 * r, 4);
            for (int l = 0; l < 8; l++)
                for (int j = 0; j < 4; j++) memcpy(blk + 16 + 32 * j + 4 * l, p + 128 + 32 * (4 * l + j) + 4 * r, 4);
        }
    }
}

void sl_q4k_x8_dequantize_row(const void *w, size_t n, size_t r, float *y) {
    const size_t rowb = n / 256 * sizeof(sl_block_q4_K);
    uint8_t *rows = malloc(8 * rowb);
    if (!rows) { memset(y, 0, n * sizeof(float)); return; }
    unpack_group(w, n, r / 8, rows);
    sl_dequantize_row(SL_QTYPE_Q4_K, rows + (r % 8) * rowb, y, n);
    free(rows);
}

#if defined(__x86_64__)
#include <immintrin.h>
#define TGT __attribute__((target("avx2,fma,f16c")))
#define VTGT __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))
#define INL static inline __attribute__((always_inline)) TGT
#define VINL static inline __attribute__((always_inline)) VTGT

/// Per 32-bit lane (one row): the int16 pair (byte b, byte b + 1) of word v, zero-extended.
INL __m256i byte_pair(__m256i v, int b) {
    const __m128i c = _mm_setr_epi8((char)b, -1, (char)(b + 1), -1, (char)(4 + b), -1, (char)(5 + b), -1,
                                    (char)(8 + b), -1, (char)(9 + b), -1, (char)(12 + b), -1, (char)(13 + b), -1);
    return _mm256_shuffle_epi8(v, _mm256_broadcastsi128_si256(c));
}

/// Sub-block scale (or min) pairs of 8 rows from the packed words: pair j = (value 2j, value 2j + 1).
INL void scale_pairs(__m256i a, __m256i b, __m256i c, __m256i sp[4], __m256i mp[4]) {
    const __m256i m6 = _mm256_set1_epi8(0x3f), m4 = _mm256_set1_epi8(0x0f), top = _mm256_set1_epi8(0x30);
    const __m256i s0 = _mm256_and_si256(a, m6), m0 = _mm256_and_si256(b, m6);
    const __m256i s1 = _mm256_or_si256(_mm256_and_si256(c, m4), _mm256_and_si256(_mm256_srli_epi32(a, 2), top));
    const __m256i m1 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(c, 4), m4), _mm256_and_si256(_mm256_srli_epi32(b, 2), top));
    sp[0] = byte_pair(s0, 0); sp[1] = byte_pair(s0, 2); sp[2] = byte_pair(s1, 0); sp[3] = byte_pair(s1, 2);
    mp[0] = byte_pair(m0, 0); mp[1] = byte_pair(m0, 2); mp[2] = byte_pair(m1, 0); mp[3] = byte_pair(m1, 2);
}

/// Per 32-bit lane: its int16 at byte b (0 or 2) in both halves.
INL __m256i doubled(__m256i v, int b) {
    const __m128i c = _mm_setr_epi8((char)b, (char)(b + 1), (char)b, (char)(b + 1), (char)(4 + b), (char)(5 + b), (char)(4 + b), (char)(5 + b),
                                    (char)(8 + b), (char)(9 + b), (char)(8 + b), (char)(9 + b), (char)(12 + b), (char)(13 + b), (char)(12 + b), (char)(13 + b));
    return _mm256_shuffle_epi8(v, _mm256_broadcastsi128_si256(c));
}

INL __m256i bcast32(const void *p) { int32_t v; memcpy(&v, p, 4); return _mm256_set1_epi32(v); }

/// Σ_s min_s × (activation sum of sub-block s) per row: the row kernel's integer `msum`.
INL __m256i min_sums(const __m256i mp[4], const sl_act_q8_K *a) {
    const __m128i bs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)a->bsums), _mm_loadu_si128((const __m128i *)(a->bsums + 8)));
    int32_t pairs[4];
    _mm_storeu_si128((__m128i *)pairs, bs);
    __m256i s = _mm256_madd_epi16(mp[0], _mm256_set1_epi32(pairs[0]));
    for (int j = 1; j < 4; j++) s = _mm256_add_epi32(s, _mm256_madd_epi16(mp[j], _mm256_set1_epi32(pairs[j])));
    return s;
}

/// The row kernel's final steps, lane-wise: its horizontal sum of the 8 accumulators, less the mins.
INL void store_group(const __m256 acc[8], __m256 corr, float *y) {
    const __m256 t0 = _mm256_add_ps(acc[0], acc[4]), t1 = _mm256_add_ps(acc[1], acc[5]);
    const __m256 t2 = _mm256_add_ps(acc[2], acc[6]), t3 = _mm256_add_ps(acc[3], acc[7]);
    _mm256_storeu_ps(y, _mm256_sub_ps(_mm256_add_ps(_mm256_add_ps(t0, t2), _mm256_add_ps(t1, t3)), corr));
}

/// The 8 rows of one group against one activation row. STEP adds lane l's scaled dots of chunk
/// (l, j) to isum: AVX2 with maddubs and madd by the doubled scale, VNNI with dpbusd and dpwssd.
#define Q4K_GROUP_KERNEL(NAME, ATTR, PREP, STEP)                                                       \
    ATTR static void NAME(const uint8_t *p, size_t nsuper, const sl_act_q8_K *a, float *y) {           \
        const __m256i m4 = _mm256_set1_epi8(0x0f);                                                     \
        __m256 acc[8], corr = _mm256_setzero_ps();                                                     \
        for (int l = 0; l < 8; l++) acc[l] = _mm256_setzero_ps();                                      \
        for (size_t i = 0; i < nsuper; i++, p += Q4K_GROUP_BYTES, a++) {                               \
            const __m256 ad = _mm256_set1_ps(a->d);                                                    \
            const __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)), ad);  \
            const __m256 dmin = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 16))), ad); \
            __m256i sp[4], mp[4];                                                                      \
            scale_pairs(_mm256_loadu_si256((const __m256i *)(p + 32)), _mm256_loadu_si256((const __m256i *)(p + 64)), \
                        _mm256_loadu_si256((const __m256i *)(p + 96)), sp, mp);                        \
            corr = _mm256_fmadd_ps(dmin, _mm256_cvtepi32_ps(min_sums(mp, a)), corr);                  \
            PREP                                                                                       \
            const uint8_t *q = p + 128;                                                                \
            for (int l = 0; l < 8; l++) {                                                              \
                __m256i isum = _mm256_setzero_si256();                                                 \
                for (int j = 0; j < 4; j++, q += 32) {                                                 \
                    const __m256i raw = _mm256_loadu_si256((const __m256i *)q);                        \
                    const __m256i lo = _mm256_and_si256(raw, m4);                                      \
                    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);                \
                    const __m256i alo = bcast32(a->qs + 64 * j + 4 * l), ahi = bcast32(a->qs + 64 * j + 32 + 4 * l); \
                    STEP                                                                               \
                }                                                                                      \
                acc[l] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(isum), acc[l]);                         \
            }                                                                                          \
        }                                                                                              \
        store_group(acc, corr, y);                                                                     \
    }

// AVX2: each pair's two scales doubled into int16 pairs, as madd wants them.
#define AVX2_PREP                                                                                      \
    __m256i sdl[4], sdh[4];                                                                            \
    for (int j = 0; j < 4; j++) { sdl[j] = doubled(sp[j], 0); sdh[j] = doubled(sp[j], 2); }
#define AVX2_STEP                                                                                      \
    isum = _mm256_add_epi32(isum, _mm256_add_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(lo, alo), sdl[j]), \
                                                   _mm256_madd_epi16(_mm256_maddubs_epi16(hi, ahi), sdh[j])));
// VNNI: the two sub-blocks' dots side by side as an int16 pair, times the scale pair in one dpwssd.
#define VNNI_PREP
#define VNNI_STEP                                                                                      \
    {                                                                                                  \
        const __m256i zero = _mm256_setzero_si256();                                                   \
        const __m256i plo = _mm256_dpbusd_epi32(zero, lo, alo), phi = _mm256_dpbusd_epi32(zero, hi, ahi); \
        isum = _mm256_dpwssd_epi32(isum, _mm256_blend_epi16(plo, _mm256_slli_epi32(phi, 16), 0xAA), sp[j]); \
    }

Q4K_GROUP_KERNEL(group_avx2, TGT, AVX2_PREP, AVX2_STEP)
Q4K_GROUP_KERNEL(group_vnni, VTGT, VNNI_PREP, VNNI_STEP)
#endif

int sl_q4k_x8_matmul(const void *w, size_t n, size_t r0, size_t r1, const void *x, size_t m, float *y, size_t ldy) {
    if (r0 % 8 != 0 || r1 % 8 != 0 || n % 256 != 0) return 0;
    const size_t nsuper = n / 256, xrow = sl_quant_act_row_bytes(SL_QTYPE_Q4_K, n);
#if defined(__x86_64__)
    if (sl_quant_simd_active() && m < SL_X8_TILE_MIN_ROWS) {
        void (*group)(const uint8_t *, size_t, const sl_act_q8_K *, float *) = sl_quant_vnni_active() ? group_vnni : group_avx2;
        for (size_t g = r0 / 8; g < r1 / 8; g++)
            for (size_t c = 0; c < m; c++)
                group((const uint8_t *)w + g * nsuper * Q4K_GROUP_BYTES, nsuper,
                      (const sl_act_q8_K *)((const uint8_t *)x + c * xrow), y + c * ldy + 8 * g);
        return 1;
    }
#endif
    (void)xrow;
    uint8_t *rows = malloc(8 * nsuper * sizeof(sl_block_q4_K));
    if (!rows) return 0;
    for (size_t g = r0 / 8; g < r1 / 8; g++) {
        unpack_group(w, n, g, rows);
        sl_quant_matmul(SL_QTYPE_Q4_K, rows, n, 0, 8, x, m, y + 8 * g, ldy);
    }
    free(rows);
    return 1;
}
