// The repacked (x8) and byte-tile kernels' integer dots with AVX-512 VNNI on 256-bit vectors:
// `vpdpbusd` sums 4 u8 x s8 products into each int32 lane in one instruction, where AVX2 needs
// `maddubs` + `madd` (+ an add, and int16 headroom limits). Chosen at run time on CPUs with
// AVX-512 VNNI and VL (Zen 4, Ice Lake and later); elsewhere the AVX2 kernels run. Same layouts,
// same integer sums and the same float operations in the same order as the AVX2 kernels, so
// the results are bitwise the same (tested).
//
// Q8_0 (signed weights): instead of the sign trick per activation row, the weight chunk is
// made unsigned once (w + 128, an xor) for all rows, and 128 * Σx of the block is taken off the
// integer sum (Σx per block computed once per activation row).
#include "ShardlineKernels.h"
#include "quant_blocks.h"
#include "quant_tile.h"
#include <stdlib.h>

static _Thread_local int no_vnni_tls;

void sl_quant_force_no_vnni(int on) { no_vnni_tls = on != 0; }

int sl_quant_vnni_available(void) {
#if defined(__x86_64__)
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        const char *off = getenv("SHARDLINE_NO_VNNI");
        cached = sl_has_avx2_fma() && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl")
                 && !(off && off[0] && off[0] != '0');
    }
    return cached;
#else
    return 0;
#endif
}

int sl_quant_vnni_active(void) { return sl_quant_vnni_available() && sl_quant_simd_active() && !no_vnni_tls; }

#if defined(__x86_64__)
#include <immintrin.h>
#define VTGT __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))
#define VINL static inline __attribute__((always_inline)) VTGT

/// Q8_0, R <= 4 activation rows; sums[r * nb + b] = Σ of row r's block b quants.
VINL void q8_rows(const int R, const uint8_t *w, size_t n, size_t g0, size_t g1, const uint8_t *x,
                  float *y, size_t ldy, const int32_t *sums) {
    const size_t nb = n / 32, xrow = nb * sizeof(sl_act_q8_32), gb = 16 + 256;
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    for (size_t g = g0; g < g1; g++) {
        const uint8_t *p = w + g * nb * gb;
        __m256 acc[4];
        for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
        for (size_t b = 0; b < nb; b++, p += gb) {
            __m256i s[4];
            for (int r = 0; r < R; r++) s[r] = _mm256_setzero_si256();
            for (int j = 0; j < 8; j++) {
                const __m256i wu = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(p + 16 + 32 * j)), flip);
                for (int r = 0; r < R; r++) {
                    const int32_t xq = ((const int32_t *)((const sl_act_q8_32 *)(x + r * xrow) + b)->qs)[j];
                    s[r] = _mm256_dpbusd_epi32(s[r], wu, _mm256_set1_epi32(xq));
                }
            }
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
            for (int r = 0; r < R; r++) {
                const float dx = ((const sl_act_q8_32 *)(x + r * xrow) + b)->d;
                const __m256i exact = _mm256_sub_epi32(s[r], _mm256_set1_epi32(sums[r * nb + b] * 128));
                acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(dx)), _mm256_cvtepi32_ps(exact), acc[r]);
            }
        }
        for (int r = 0; r < R; r++) _mm256_storeu_ps(y + r * ldy + 8 * g, acc[r]);
    }
}

/// Q4_0/Q5_0, R <= 4 activation rows: unsigned quants straight into vpdpbusd. `tile_order`:
/// the float steps of the AVX2 byte tile (which AVX2 takes from SL_X8_TILE_MIN_ROWS rows), else
/// those of its row kernel, so that each m gives AVX2's result to the bit.
VINL void q45_rows(const int R, const uint8_t *w, size_t n, size_t g0, size_t g1, const uint8_t *x,
                   float *y, size_t ldy, const int five, const int tile_order) {
    const size_t nb = n / 32, xrow = nb * sizeof(sl_act_q8_32), gb = five ? 16 + 128 + 32 : 16 + 128;
    const __m256 offset = _mm256_set1_ps(five ? 16.0f : 8.0f), neg_offset = _mm256_set1_ps(five ? -16.0f : -8.0f);
    for (size_t g = g0; g < g1; g++) {
        const uint8_t *p = w + g * nb * gb;
        __m256 acc[4];
        for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
        for (size_t b = 0; b < nb; b++, p += gb) {
            const __m256i plane = five ? _mm256_loadu_si256((const __m256i *)(p + 16 + 128)) : _mm256_setzero_si256();
            __m256i s[4];
            for (int r = 0; r < R; r++) s[r] = _mm256_setzero_si256();
            for (int j = 0; j < 4; j++) {
                __m256i ql, qh;
                sl_x8_q45_chunks(p, plane, j, five, &ql, &qh);
                for (int r = 0; r < R; r++) {
                    const int32_t *xq = (const int32_t *)((const sl_act_q8_32 *)(x + r * xrow) + b)->qs;
                    s[r] = _mm256_dpbusd_epi32(s[r], ql, _mm256_set1_epi32(xq[j]));
                    s[r] = _mm256_dpbusd_epi32(s[r], qh, _mm256_set1_epi32(xq[j + 4]));
                }
            }
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
            for (int r = 0; r < R; r++) {
                const sl_act_q8_32 *a = (const sl_act_q8_32 *)(x + r * xrow) + b;
                if (tile_order) {
                    acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(a->d)), _mm256_cvtepi32_ps(s[r]), acc[r]);
                    acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(dw, neg_offset), _mm256_set1_ps(a->s), acc[r]);
                } else {
                    const __m256 inner = _mm256_fmsub_ps(_mm256_set1_ps(a->d), _mm256_cvtepi32_ps(s[r]), _mm256_mul_ps(offset, _mm256_set1_ps(a->s)));
                    acc[r] = _mm256_fmadd_ps(dw, inner, acc[r]);
                }
            }
        }
        for (int r = 0; r < R; r++) _mm256_storeu_ps(y + r * ldy + 8 * g, acc[r]);
    }
}

static void block_sums(const uint8_t *x, size_t m, size_t n, uint8_t *aux) {
    const size_t nb = n / 32, xrow = nb * sizeof(sl_act_q8_32);
    int32_t *sums = (int32_t *)aux;
    for (size_t c = 0; c < m; c++)
        for (size_t b = 0; b < nb; b++) {
            const sl_act_q8_32 *a = (const sl_act_q8_32 *)(x + c * xrow) + b;
            int32_t s = 0;
            for (int e = 0; e < 32; e++) s += a->qs[e];
            sums[c * nb + b] = s;
        }
}

static size_t block_sums_row_bytes(size_t n) { return n / 32 * sizeof(int32_t); }

#define Q8_BODY(R) q8_rows(R, w, n, g0, g1, x, y, ldy, (const int32_t *)aux)
#define Q4_BODY(R) (void)aux; q45_rows(R, w, n, g0, g1, x, y, ldy, 0, 0)
#define Q5_BODY(R) (void)aux; q45_rows(R, w, n, g0, g1, x, y, ldy, 1, 0)
#define Q4T_BODY(R) (void)aux; q45_rows(R, w, n, g0, g1, x, y, ldy, 0, 1)
#define Q5T_BODY(R) (void)aux; q45_rows(R, w, n, g0, g1, x, y, ldy, 1, 1)
SL_X8_ROWS(VTGT, q8_vnni_, Q8_BODY)
SL_X8_ROWS(VTGT, q4_vnni_, Q4_BODY)
SL_X8_ROWS(VTGT, q5_vnni_, Q5_BODY)
SL_X8_ROWS(VTGT, q4t_vnni_, Q4T_BODY)
SL_X8_ROWS(VTGT, q5t_vnni_, Q5T_BODY)

static const sl_x8_kernel q8_vnni = {{q8_vnni_1, q8_vnni_2, q8_vnni_3, q8_vnni_4}, block_sums, block_sums_row_bytes};
static const sl_x8_kernel q4_vnni = {{q4_vnni_1, q4_vnni_2, q4_vnni_3, q4_vnni_4}, NULL, NULL};
static const sl_x8_kernel q5_vnni = {{q5_vnni_1, q5_vnni_2, q5_vnni_3, q5_vnni_4}, NULL, NULL};
static const sl_x8_kernel q4t_vnni = {{q4t_vnni_1, q4t_vnni_2, q4t_vnni_3, q4t_vnni_4}, NULL, NULL};
static const sl_x8_kernel q5t_vnni = {{q5t_vnni_1, q5t_vnni_2, q5t_vnni_3, q5t_vnni_4}, NULL, NULL};

const sl_x8_kernel *sl_x8_kernel_vnni(int type, size_t m) {
    const int tile_order = m >= SL_X8_TILE_MIN_ROWS;
    switch (type) {
    case SL_QTYPE_Q8_0: return &q8_vnni;
    case SL_QTYPE_Q4_0: return tile_order ? &q4t_vnni : &q4_vnni;
    case SL_QTYPE_Q5_0: return tile_order ? &q5t_vnni : &q5_vnni;
    default: return NULL;
    }
}

/// Σ of `count` chunks from chunk j of a tile sub-block, per row lane, in int32.
VINL __m256i chunk_dots(const uint8_t *qt, const uint8_t *st, const int32_t *xq, int j, int count, const int is_signed) {
    __m256i s = _mm256_setzero_si256();
    for (int k = j; k < j + count; k++) {
        __m256i xv = _mm256_set1_epi32(xq[k]);
        if (is_signed) xv = _mm256_sign_epi8(xv, _mm256_loadu_si256((const __m256i *)(st + 32 * k)));
        s = _mm256_dpbusd_epi32(s, _mm256_loadu_si256((const __m256i *)(qt + 32 * k)), xv);
    }
    return s;
}

VINL void store_rows(float *y, __m256 v, size_t rows) {
    if (rows == 8) { _mm256_storeu_ps(y, v); return; }
    float t[8];
    _mm256_storeu_ps(t, v);
    for (size_t r = 0; r < rows; r++) y[r] = t[r];
}

VINL void tile_rows_32(const uint8_t *tile, const tile_sizes *ts, size_t n, const uint8_t *x, size_t xrow,
                       size_t m, float *y, size_t ldy, size_t rows, const int is_signed) {
    for (size_t c = 0; c < m; c++) {
        const sl_act_q8_32 *a = (const sl_act_q8_32 *)(x + c * xrow);
        __m256 acc = _mm256_setzero_ps();
        for (size_t b = 0; b < n / 32; b++, a++) {
            const uint8_t *qt = tile + ts->quants + 256 * b, *st = tile + ts->signs + 256 * b;
            const __m256i s32 = chunk_dots(qt, st, (const int32_t *)a->qs, 0, 8, is_signed);
            const float *sc = (const float *)(tile + ts->scales + 64 * b);
            acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(sc), _mm256_set1_ps(a->d)), _mm256_cvtepi32_ps(s32), acc);
            if (!is_signed) acc = _mm256_fmadd_ps(_mm256_loadu_ps(sc + 8), _mm256_set1_ps(a->s), acc);
        }
        store_rows(y + c * ldy, acc, rows);
    }
}

/// The sub-block scales sit twice per row lane as int16 (for AVX2's `madd`): the high half,
/// shifted down with its sign, is the lane's int32 scale.
VINL __m256i lane_scales(const int16_t *sc) { return _mm256_srai_epi32(_mm256_loadu_si256((const __m256i *)sc), 16); }

/// K super-block tiles, R <= 4 activation rows per pass: each chunk of the tile is loaded once
/// for the R rows (one row at a time, the loads and broadcasts, not the dots, were the limit).
VINL void tile_rows_K(const int R, const uint8_t *tile, const tile_sizes *ts, size_t n, const uint8_t *x, size_t xrow,
                      float *y, size_t ldy, size_t rows, const int is_signed) {
    __m256 acc[4];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    for (size_t i = 0; i < n / 256; i++) {
        const sl_act_q8_K *a[4];
        __m256i isum[4], msum[4];
        for (int r = 0; r < R; r++) {
            a[r] = (const sl_act_q8_K *)(x + r * xrow) + i;
            isum[r] = msum[r] = _mm256_setzero_si256();
        }
        for (int s = 0; s < 8; s++) {
            const size_t b = 8 * i + s;
            const uint8_t *qt = tile + ts->quants + 256 * b, *st = tile + ts->signs + 256 * b;
            const int16_t *sc = (const int16_t *)(tile + ts->scales + 96 * b);
            for (int half = 0; half < 2; half++) {
                __m256i d[4];
                for (int r = 0; r < R; r++) d[r] = _mm256_setzero_si256();
                for (int k = 4 * half; k < 4 * half + 4; k++) {
                    const __m256i q = _mm256_loadu_si256((const __m256i *)(qt + 32 * k));
                    const __m256i sg = is_signed ? _mm256_loadu_si256((const __m256i *)(st + 32 * k)) : q;
                    for (int r = 0; r < R; r++) {
                        __m256i xv = _mm256_set1_epi32(((const int32_t *)(a[r]->qs + 32 * s))[k]);
                        if (is_signed) xv = _mm256_sign_epi8(xv, sg);
                        d[r] = _mm256_dpbusd_epi32(d[r], q, xv);
                    }
                }
                const __m256i scale = lane_scales(sc + 16 * half);
                for (int r = 0; r < R; r++) isum[r] = _mm256_add_epi32(isum[r], _mm256_mullo_epi32(d[r], scale));
            }
            if (!is_signed) {
                const __m256i mins = _mm256_loadu_si256((const __m256i *)(sc + 32));
                for (int r = 0; r < R; r++) {
                    const int bsum = a[r]->bsums[2 * s] + a[r]->bsums[2 * s + 1];
                    msum[r] = _mm256_add_epi32(msum[r], _mm256_madd_epi16(mins, _mm256_set1_epi32((int)(uint16_t)(int16_t)bsum)));
                }
            }
        }
        const float *sd = (const float *)(tile + ts->supers + 64 * i);
        for (int r = 0; r < R; r++) {
            const __m256 ad = _mm256_set1_ps(a[r]->d);
            acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(sd), ad), _mm256_cvtepi32_ps(isum[r]), acc[r]);
            if (!is_signed) acc[r] = _mm256_fnmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(sd + 8), ad), _mm256_cvtepi32_ps(msum[r]), acc[r]);
        }
    }
    for (int r = 0; r < R; r++) store_rows(y + r * ldy, acc[r], rows);
}

VINL void tile_rows_K_all(const uint8_t *tile, const tile_sizes *ts, size_t n, const uint8_t *x, size_t xrow,
                          size_t m, float *y, size_t ldy, size_t rows, const int is_signed) {
    for (size_t c = 0; c < m; c += 4) {
        const uint8_t *xc = x + c * xrow;
        float *yc = y + c * ldy;
        switch (m - c < 4 ? m - c : 4) {
        case 1: tile_rows_K(1, tile, ts, n, xc, xrow, yc, ldy, rows, is_signed); break;
        case 2: tile_rows_K(2, tile, ts, n, xc, xrow, yc, ldy, rows, is_signed); break;
        case 3: tile_rows_K(3, tile, ts, n, xc, xrow, yc, ldy, rows, is_signed); break;
        default: tile_rows_K(4, tile, ts, n, xc, xrow, yc, ldy, rows, is_signed); break;
        }
    }
}

VTGT void sl_tile_rows_vnni(const tile_format *f, const uint8_t *tile, size_t n, const uint8_t *x,
                            size_t xrow, size_t m, float *y, size_t ldy, size_t rows) {
    const tile_sizes ts = tile_sizes_of(f, n);
    if (f->kind == 0) {
        if (f->is_signed) tile_rows_32(tile, &ts, n, x, xrow, m, y, ldy, rows, 1);
        else tile_rows_32(tile, &ts, n, x, xrow, m, y, ldy, rows, 0);
    } else {
        if (f->is_signed) tile_rows_K_all(tile, &ts, n, x, xrow, m, y, ldy, rows, 1);
        else tile_rows_K_all(tile, &ts, n, x, xrow, m, y, ldy, rows, 0);
    }
}
#else
const sl_x8_kernel *sl_x8_kernel_vnni(int type, size_t m) { (void)type; (void)m; return NULL; }
void sl_tile_rows_vnni(const tile_format *f, const uint8_t *tile, size_t n, const uint8_t *x,
                       size_t xrow, size_t m, float *y, size_t ldy, size_t rows) {
    (void)f; (void)tile; (void)n; (void)x; (void)xrow; (void)m; (void)y; (void)ldy; (void)rows;
}
#endif
