// Q4_0, Q5_0 and Q8_0 weights repacked 8 rows at a time, in the same number of bytes, for
// decode: one activation row meets every weight once, and the per-row kernels spend as many
// instructions on each block's unpacking, scale, conversion and horizontal sum as on its dot.
//
// Per group of 8 rows and 32-column block: the 8 rows' f16 scales (16 bytes), then the quants
// as 8 "chunks", chunk j = elements 4j..4j+3 of rows 0..7 side by side. A chunk times the
// activation's 4 bytes broadcast puts the 8 rows' partial dots in 8 lanes, so scales,
// conversion and FMA are paid once per 8 rows and no horizontal sums are needed.
//  - Q8_0: chunks as bytes (256). The sign trick is turned around (|x| unsigned, w takes x's
//    sign), so |x| is computed once per activation block; that needs w != -128, which GGML's
//    quantizer never writes, and repacking refuses a matrix that has one.
//  - Q4_0/Q5_0: chunk j in the low nibbles and chunk j + 4 in the high nibbles of 4 vectors
//    (128 bytes); Q5_0 adds a 32-byte plane whose byte i holds the 5th bits of position i of
//    chunks 0..7 (bit j for chunk j), so one shift and mask give a chunk's 0x10s. Quants stay
//    unsigned (0..15, 0..31); the -8/-16 offset goes through the activation block's sum.
#include "ShardlineKernels.h"
#include "quant_blocks.h"
#include "quant_tile.h"
#include <stdlib.h>
#include <string.h>

size_t sl_quant_x8_group_block_bytes(int type) {
    switch (type) {
    case SL_QTYPE_Q4_0: return 16 + 128;
    case SL_QTYPE_Q5_0: return 16 + 128 + 32;
    case SL_QTYPE_Q8_0: return 16 + 256;
    // K types (quant_repack_k.c): a 256-column super-block of 8 rows, per 32 columns.
    case SL_QTYPE_Q4_K: return sizeof(sl_block_q4_K);
    case SL_QTYPE_Q6_K: return sizeof(sl_block_q6_K);
    default: return 0;
    }
}

/// Quant e (0..31) of one block of a GGML row as an integer (signed for Q8_0, unsigned else).
static int row_quant(int type, const uint8_t *blk, int e) {
    switch (type) {
    case SL_QTYPE_Q4_0: return e < 16 ? blk[2 + e] & 0xf : blk[2 + e - 16] >> 4;
    case SL_QTYPE_Q5_0: {
        uint32_t qh;
        memcpy(&qh, blk + 2, 4);
        const int lo = e < 16 ? blk[6 + e] & 0xf : blk[6 + e - 16] >> 4;
        return lo | (int)((qh >> e) & 1) << 4;
    }
    default: return (int8_t)blk[2 + e];
    }
}

/// Quant (row l, element e) of one group block of a repacked matrix.
static int packed_quant(int type, const uint8_t *g, int l, int e) {
    const int j = e / 4, t = e % 4, pos = 4 * l + t;
    switch (type) {
    case SL_QTYPE_Q8_0: return (int8_t)g[16 + 32 * j + pos];
    default: {
        const uint8_t nib = g[16 + 32 * (j % 4) + pos];
        int q = j < 4 ? nib & 0xf : nib >> 4;
        if (type == SL_QTYPE_Q5_0) q |= ((g[16 + 128 + pos] >> j) & 1) << 4;
        return q;
    }
    }
}

size_t sl_quant_repack_x8(int type, const void *src, size_t rows, size_t n, void *dst) {
    if (sl_k_x8_type(type)) return sl_k_x8_repack(type, src, rows, n, dst);
    const size_t gb = sl_quant_x8_group_block_bytes(type);
    if (gb == 0 || rows % 8 != 0 || n % 32 != 0) return 0;
    const size_t nb = n / 32, bb = sl_qtype_block_bytes(type), rowb = nb * bb;
    const uint8_t *s = src;
    if (type == SL_QTYPE_Q8_0)
        for (size_t i = 0; i < rows * rowb; i += bb)
            for (int k = 0; k < 32; k++)
                if (s[i + 2 + k] == 0x80) return 0;
    uint8_t *d = dst;
    memset(d, 0, rows / 8 * nb * gb);
    for (size_t g = 0; g < rows / 8; g++) {
        for (size_t b = 0; b < nb; b++, d += gb) {
            for (int l = 0; l < 8; l++) {
                const uint8_t *blk = s + (8 * g + l) * rowb + b * bb;
                memcpy(d + 2 * l, blk, 2);
                for (int e = 0; e < 32; e++) {
                    const int q = row_quant(type, blk, e), j = e / 4, pos = 4 * l + e % 4;
                    if (type == SL_QTYPE_Q8_0) {
                        d[16 + 32 * j + pos] = (uint8_t)q;
                    } else {
                        d[16 + 32 * (j % 4) + pos] |= (uint8_t)((q & 0xf) << (j < 4 ? 0 : 4));
                        if (type == SL_QTYPE_Q5_0) d[16 + 128 + pos] |= (uint8_t)(((q >> 4) & 1) << j);
                    }
                }
            }
        }
    }
    return rows * rowb;
}

void sl_quant_x8_dequantize_row(int type, const void *w, size_t n, size_t r, float *y) {
    if (sl_k_x8_type(type)) { sl_k_x8_dequantize_row(type, w, n, r, y); return; }
    const size_t nb = n / 32, gb = sl_quant_x8_group_block_bytes(type);
    const float offset = type == SL_QTYPE_Q4_0 ? 8 : (type == SL_QTYPE_Q5_0 ? 16 : 0);
    const uint8_t *g = (const uint8_t *)w + (r / 8) * nb * gb;
    const int l = (int)(r % 8);
    for (size_t b = 0; b < nb; b++, g += gb, y += 32) {
        uint16_t h;
        memcpy(&h, g + 2 * l, 2);
        const float d = sl_f16_to_f32(h);
        for (int e = 0; e < 32; e++) y[e] = ((float)packed_quant(type, g, l, e) - offset) * d;
    }
}

/// The same integer block dots in plain C.
static void x8_portable(int type, const uint8_t *w, size_t n, size_t g0, size_t g1, const uint8_t *x, size_t m,
                        float *y, size_t ldy) {
    const size_t nb = n / 32, xrow = nb * sizeof(sl_act_q8_32), gb = sl_quant_x8_group_block_bytes(type);
    const float offset = type == SL_QTYPE_Q4_0 ? 8 : (type == SL_QTYPE_Q5_0 ? 16 : 0);
    for (size_t g = g0; g < g1; g++) {
        for (size_t c = 0; c < m; c++) {
            const sl_act_q8_32 *a = (const sl_act_q8_32 *)(x + c * xrow);
            for (int l = 0; l < 8; l++) {
                const uint8_t *p = w + g * nb * gb;
                float acc = 0;
                for (size_t b = 0; b < nb; b++, p += gb) {
                    uint16_t h;
                    memcpy(&h, p + 2 * l, 2);
                    int s = 0;
                    for (int e = 0; e < 32; e++) s += packed_quant(type, p, l, e) * a[b].qs[e];
                    const float dw = sl_f16_to_f32(h);
                    acc += dw * a[b].d * (float)s - offset * dw * a[b].s;
                }
                y[c * ldy + 8 * g + l] = acc;
            }
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define TGT __attribute__((target("avx2,fma,f16c")))

#define INL static inline __attribute__((always_inline)) TGT

/// Q8_0 for R <= 4 activation rows at once: each weight chunk is loaded once and dotted with
/// all R rows. y[r * ldy + 8g .. 8g + 7] for groups [g0, g1), rows r < R of x (and xabs = |x|).
INL void q8_rows(const int R, const uint8_t *w, size_t n, size_t g0, size_t g1, const uint8_t *x,
                 float *y, size_t ldy, const int8_t *xabs) {
    const size_t nb = n / 32, xrow = nb * sizeof(sl_act_q8_32), gb = 16 + 256;
    const __m256i ones = _mm256_set1_epi16(1);
    for (size_t g = g0; g < g1; g++) {
        const uint8_t *p = w + g * nb * gb;
        __m256 acc[4];
        for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
        for (size_t b = 0; b < nb; b++, p += gb) {
            __m256i s[4];
            for (int r = 0; r < R; r++) s[r] = _mm256_setzero_si256();
            for (int j = 0; j < 8; j++) {
                const __m256i wv = _mm256_loadu_si256((const __m256i *)(p + 16 + 32 * j));
                for (int r = 0; r < R; r++) {
                    const int32_t xq = ((const int32_t *)((const sl_act_q8_32 *)(x + r * xrow) + b)->qs)[j];
                    const int32_t xa = ((const int32_t *)(xabs + r * n + 32 * b))[j];
                    const __m256i pr = _mm256_maddubs_epi16(_mm256_set1_epi32(xa), _mm256_sign_epi8(wv, _mm256_set1_epi32(xq)));
                    s[r] = _mm256_add_epi32(s[r], _mm256_madd_epi16(pr, ones));
                }
            }
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
            for (int r = 0; r < R; r++) {
                const float dx = ((const sl_act_q8_32 *)(x + r * xrow) + b)->d;
                acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(dx)), _mm256_cvtepi32_ps(s[r]), acc[r]);
            }
        }
        for (int r = 0; r < R; r++) _mm256_storeu_ps(y + r * ldy + 8 * g, acc[r]);
    }
}

/// Q4_0/Q5_0 for R <= 4 activation rows at once: each block is unpacked once for all R rows.
/// Unsigned quants, so maddubs(w, x) directly; sums of 4 chunks fit in int16 (31 * 127 * 2 * 4 < 32768).
INL void q45_rows(const int R, const uint8_t *w, size_t n, size_t g0, size_t g1, const uint8_t *x,
                  float *y, size_t ldy, const int five) {
    const size_t nb = n / 32, xrow = nb * sizeof(sl_act_q8_32), gb = five ? 16 + 128 + 32 : 16 + 128;
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256 offset = _mm256_set1_ps(five ? 16.0f : 8.0f);
    for (size_t g = g0; g < g1; g++) {
        const uint8_t *p = w + g * nb * gb;
        __m256 acc[4];
        for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
        for (size_t b = 0; b < nb; b++, p += gb) {
            const __m256i plane = five ? _mm256_loadu_si256((const __m256i *)(p + 16 + 128)) : _mm256_setzero_si256();
            __m256i lo16[4], hi16[4];
            for (int r = 0; r < R; r++) lo16[r] = hi16[r] = _mm256_setzero_si256();
            for (int j = 0; j < 4; j++) {
                __m256i ql, qh;
                sl_x8_q45_chunks(p, plane, j, five, &ql, &qh);
                for (int r = 0; r < R; r++) {
                    const int32_t *xq = (const int32_t *)((const sl_act_q8_32 *)(x + r * xrow) + b)->qs;
                    lo16[r] = _mm256_add_epi16(lo16[r], _mm256_maddubs_epi16(ql, _mm256_set1_epi32(xq[j])));
                    hi16[r] = _mm256_add_epi16(hi16[r], _mm256_maddubs_epi16(qh, _mm256_set1_epi32(xq[j + 4])));
                }
            }
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
            for (int r = 0; r < R; r++) {
                const sl_act_q8_32 *a = (const sl_act_q8_32 *)(x + r * xrow) + b;
                const __m256i s = _mm256_add_epi32(_mm256_madd_epi16(lo16[r], ones), _mm256_madd_epi16(hi16[r], ones));
                // d * (dx * S - offset * dx * Σq), the activation's s = dx * Σq.
                const __m256 inner = _mm256_fmsub_ps(_mm256_set1_ps(a->d), _mm256_cvtepi32_ps(s), _mm256_mul_ps(offset, _mm256_set1_ps(a->s)));
                acc[r] = _mm256_fmadd_ps(dw, inner, acc[r]);
            }
        }
        for (int r = 0; r < R; r++) _mm256_storeu_ps(y + r * ldy + 8 * g, acc[r]);
    }
}

TGT static void abs_rows(const uint8_t *x, size_t m, size_t n, uint8_t *xabs) {
    const size_t xrow = n / 32 * sizeof(sl_act_q8_32);
    for (size_t c = 0; c < m; c++) {
        const sl_act_q8_32 *a = (const sl_act_q8_32 *)(x + c * xrow);
        for (size_t b = 0; b < n / 32; b++)
            _mm256_storeu_si256((__m256i *)(xabs + c * n + 32 * b), _mm256_abs_epi8(_mm256_loadu_si256((const __m256i *)a[b].qs)));
    }
}

static size_t abs_row_bytes(size_t n) { return n; }

#define Q8_BODY(R) q8_rows(R, w, n, g0, g1, x, y, ldy, (const int8_t *)aux)
#define Q4_BODY(R) (void)aux; q45_rows(R, w, n, g0, g1, x, y, ldy, 0)
#define Q5_BODY(R) (void)aux; q45_rows(R, w, n, g0, g1, x, y, ldy, 1)
SL_X8_ROWS(TGT, q8_avx2_, Q8_BODY)
SL_X8_ROWS(TGT, q4_avx2_, Q4_BODY)
SL_X8_ROWS(TGT, q5_avx2_, Q5_BODY)

static const sl_x8_kernel q8_avx2 = {{q8_avx2_1, q8_avx2_2, q8_avx2_3, q8_avx2_4}, abs_rows, abs_row_bytes};
static const sl_x8_kernel q4_avx2 = {{q4_avx2_1, q4_avx2_2, q4_avx2_3, q4_avx2_4}, NULL, NULL};
static const sl_x8_kernel q5_avx2 = {{q5_avx2_1, q5_avx2_2, q5_avx2_3, q5_avx2_4}, NULL, NULL};

/// m activation rows, 4 per pass, over spans of 32 groups (174 KB of Q8_0 at 640 columns,
/// which stays in L2 while the next 4 rows reuse it). On Gemma's 262144x640 head, one thread
/// (Zen 4, AVX2): 4 rows 12 ms, 8 rows 25 ms, 32 rows 97 ms, against 18, 38 and 104 ms for one
/// row at a time below 4 and the byte tile from 4 (quant_tile_avx2.c); one row stays memory-bound.
static int x8_run(const sl_x8_kernel *k, const uint8_t *w, size_t n, size_t g0, size_t g1, const uint8_t *x, size_t m,
                  float *y, size_t ldy) {
    const size_t xrow = n / 32 * sizeof(sl_act_q8_32), span = 32, aux_row = k->prepare ? k->aux_row(n) : 0;
    uint8_t *aux = NULL;
    if (k->prepare) {
        aux = malloc(m * aux_row > 0 ? m * aux_row : 1);
        if (!aux) return 0;
        k->prepare(x, m, n, aux);
    }
    for (size_t s0 = g0; s0 < g1; s0 += span) {
        const size_t s1 = s0 + span < g1 ? s0 + span : g1;
        for (size_t c = 0; c < m; c += 4) {
            const size_t rows = m - c < 4 ? m - c : 4;
            k->rows[rows - 1](w, n, s0, s1, x + c * xrow, y + c * ldy, ldy, aux ? aux + c * aux_row : NULL);
        }
    }
    free(aux);
    return 1;
}
#endif

int sl_quant_x8_matmul(int type, const void *w, size_t n, size_t r0, size_t r1, const void *x, size_t m,
                       float *y, size_t ldy) {
    if (sl_k_x8_type(type)) return sl_k_x8_matmul(type, w, n, r0, r1, x, m, y, ldy);
    if (sl_quant_x8_group_block_bytes(type) == 0 || r0 % 8 != 0 || r1 % 8 != 0 || n % 32 != 0) return 0;
#if defined(__x86_64__)
    if (sl_quant_simd_active()) {
        // Batches: unpack each group once to bytes and let every activation row reuse it.
        // (Q8_0's multi-row kernel beats its tile at every row count.)
        // VNNI: Q4_0/Q5_0's multi-row kernel beats the byte tile at every row count as well
        // (2048x640 Q5_0, one thread: 32 rows 316 against 510 us, 512 rows 6.9 against 8.5 ms).
        const sl_x8_kernel *k = sl_quant_vnni_active() ? sl_x8_kernel_vnni(type, m) : NULL;
        if (!k && type != SL_QTYPE_Q8_0 && m >= SL_X8_TILE_MIN_ROWS && sl_quant_x8_matmul_tiled(type, w, n, r0, r1, x, m, y, ldy))
            return 1;
        if (!k) k = type == SL_QTYPE_Q8_0 ? &q8_avx2 : (type == SL_QTYPE_Q5_0 ? &q5_avx2 : &q4_avx2);
        if (x8_run(k, w, n, r0 / 8, r1 / 8, x, m, y, ldy)) return 1;
    }
#endif
    x8_portable(type, w, n, r0 / 8, r1 / 8, x, m, y, ldy);
    return 1;
}
