// K-quant weights (Q4_K, Q6_K) repacked 8 rows at a time for decode, in the same number of bytes
// as GGML's rows. Their row kernels (quant_avx2.c) are compute-bound on Zen 4 (Q4_K near 20 GB/s
// per thread, Q6_K near 25): per 256 weights they unpack and broadcast scales in scalar code and
// set up the mins or the -32 offset. Eight rows side by side do that work once for 8 rows in SIMD lanes.
//
// Bitwise the same results as the row kernels, so greedy outputs do not move: a row kernel keeps
// 8 int32 lanes per row and super-block (lane l: Σ of scale × the dot of elements 4l..4l+3 of each
// 32-element piece), one FMA per lane, Q4_K's mins in one scalar FMA, then a fixed horizontal sum.
// Here vector l holds lane l of 8 rows, and the same float steps run lane-wise.
//
// Q4_K, per group of 8 rows and super-block (1152 bytes = 8 × 144):
//   [0, 16) d of rows 0..7 (f16)       [16, 32) dmin (f16)
//   [32, 128) the 12 packed scale bytes as 3 words per row: word k of rows 0..7 at 32 + 32k
//   [128, 1152) quant chunks: chunk (l, j) at 128 + 32 (4l + j) holds bytes 32j + 4l .. + 3 of
//   rows 0..7 side by side (low nibbles: sub-block 2j, elements 4l..4l+3; high: sub-block 2j + 1).
// Q6_K, per group and super-block (1680 bytes = 8 × 210):
//   [0, 16) d (f16)
//   [16, 144) scale pairs: pair 4h + 2s + p at 16 + 16 (4h + 2s + p) holds, per row, scales
//   8h + 4p + s and 8h + 4p + 2 + s (s: the upper 16 of a 32-element piece; the pair's two
//   pieces are the ones one VNNI step takes together)
//   [144, 1680) per half h and lane l, at 144 + 96 (2l + h): ql bytes 64h + 4l .. + 3, then ql
//   64h + 32 + 4l .., then qh 32h + 4l .., each for rows 0..7 side by side.
// Eight activation rows or more go through the byte tile (quant_tile_avx2.c) from the 8 rows
// unpacked back to GGML's layout, as do CPUs without AVX2.
#include "ShardlineKernels.h"
#include "quant_blocks.h"
#include "quant_tile.h"
#include <stdlib.h>
#include <string.h>

/// Bytes of one super-block of 8 rows.
static size_t group_block_bytes(int type) { return 8 * sl_qtype_block_bytes(type); }

/// Where byte `o` of a GGML block of row r lands in its repacked group block (the layouts
/// above; repacking and unpacking read this one map in the two directions).
static size_t packed_offset(int type, int r, size_t o) {
    if (type == SL_QTYPE_Q4_K) {
        if (o < 2) return 2 * r + o;                               // d
        if (o < 4) return 16 + 2 * r + (o - 2);                    // dmin
        if (o < 16) return 32 + 32 * ((o - 4) / 4) + 4 * r + (o - 4) % 4;
        const size_t q = o - 16, j = q / 32, l = q % 32 / 4;       // qs byte 32j + 4l + t
        return 128 + 32 * (4 * l + j) + 4 * r + q % 4;
    }
    // Q6_K: ql[128], qh[64], scales[16], d
    if (o < 128) {                                                 // ql byte 64h + 32c + 4l + t
        const size_t h = o / 64, c = o % 64 / 32, l = o % 32 / 4;
        return 144 + 96 * (2 * l + h) + 32 * c + 4 * r + o % 4;
    }
    if (o < 192) {                                                 // qh byte 32h + 4l + t
        const size_t q = o - 128, h = q / 32, l = q % 32 / 4;
        return 144 + 96 * (2 * l + h) + 64 + 4 * r + q % 4;
    }
    if (o < 208) {                                                 // scale 8h + 4p + 2e + s
        const size_t k = o - 192, h = k / 8, p = k % 8 / 4, e = k % 4 / 2, s = k % 2;
        return 16 + 16 * (4 * h + 2 * s + p) + 2 * r + e;
    }
    return 2 * r + (o - 208);                                      // d
}

/// Activation rows from which the byte tile beats the repacked kernel run once per row (one
/// thread, 640x2048: Q4_K 4 rows 111 against 148 us, 8 rows 218 against 329, 32 rows 851
/// against 628; Q6_K 4 rows 139 against 193, 8 rows 359 against 275).
#define K_X8_TILE_MIN_ROWS 8

/// Bytes that move together from offset o of a GGML block: every field is whole 4-byte words
/// except the f16 scales and Q6_K's int8 sub-block scales.
static inline size_t piece_bytes(int type, size_t o) {
    if (type == SL_QTYPE_Q4_K) return o < 4 ? 2 : 4;
    return o < 192 ? 4 : (o < 208 ? 1 : 2);
}

/// Super-blocks [0, nsuper) of 8 GGML rows (row r at rows + r * rowb) to or from their repacked
/// group blocks at packed. Inlined per type, so the offsets fold to shifts and masks.
static inline __attribute__((always_inline)) void move_group(int type, uint8_t *packed, uint8_t *rows, size_t nsuper,
                                                             int to_rows) {
    const size_t bb = type == SL_QTYPE_Q4_K ? sizeof(sl_block_q4_K) : sizeof(sl_block_q6_K), rowb = nsuper * bb, gbb = 8 * bb;
    for (size_t i = 0; i < nsuper; i++)
        for (int r = 0; r < 8; r++) {
            uint8_t *blk = rows + r * rowb + i * bb, *grp = packed + i * gbb;
            for (size_t o = 0; o < bb;) {
                const size_t k = piece_bytes(type, o), at = packed_offset(type, r, o);
                if (to_rows) memcpy(blk + o, grp + at, k); else memcpy(grp + at, blk + o, k);
                o += k;
            }
        }
}

size_t sl_k_x8_repack(int type, const void *src, size_t rows, size_t n, void *dst) {
    if (!sl_k_x8_type(type) || rows % 8 != 0 || n % 256 != 0) return 0;
    const size_t nsuper = n / 256, rowb = nsuper * sl_qtype_block_bytes(type), groupb = 8 * rowb;
    for (size_t g = 0; g < rows / 8; g++) {
        uint8_t *in = (uint8_t *)src + g * groupb, *out = (uint8_t *)dst + g * groupb;
        if (type == SL_QTYPE_Q4_K) move_group(SL_QTYPE_Q4_K, out, in, nsuper, 0);
        else move_group(SL_QTYPE_Q6_K, out, in, nsuper, 0);
    }
    return rows * rowb;
}

/// Group g back in GGML's layout: 8 rows of n / 256 blocks at out.
static void unpack_group(int type, const uint8_t *w, size_t n, size_t g, uint8_t *out) {
    const size_t nsuper = n / 256, groupb = 8 * nsuper * sl_qtype_block_bytes(type);
    uint8_t *packed = (uint8_t *)w + g * groupb;  // read only: to_rows copies out of it
    if (type == SL_QTYPE_Q4_K) move_group(SL_QTYPE_Q4_K, packed, out, nsuper, 1);
    else move_group(SL_QTYPE_Q6_K, packed, out, nsuper, 1);
}

void sl_k_x8_dequantize_row(int type, const void *w, size_t n, size_t r, float *y) {
    const size_t rowb = n / 256 * sl_qtype_block_bytes(type);
    uint8_t *rows = malloc(8 * rowb);
    if (!rows) { memset(y, 0, n * sizeof(float)); return; }
    unpack_group(type, w, n, r / 8, rows);
    sl_dequantize_row(type, rows + (r % 8) * rowb, y, n);
    free(rows);
}

#if defined(__x86_64__)
#include <immintrin.h>
#define TGT __attribute__((target("avx2,fma,f16c")))
#define VTGT __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))
#define INL static inline __attribute__((always_inline)) TGT

/// Per 32-bit lane (one row): the int16 pair (byte b, byte b + 1) of word v, zero-extended.
INL __m256i byte_pair(__m256i v, int b) {
    const __m128i c = _mm_setr_epi8((char)b, -1, (char)(b + 1), -1, (char)(4 + b), -1, (char)(5 + b), -1,
                                    (char)(8 + b), -1, (char)(9 + b), -1, (char)(12 + b), -1, (char)(13 + b), -1);
    return _mm256_shuffle_epi8(v, _mm256_broadcastsi128_si256(c));
}

/// Sub-block scale (or min) pairs of 8 rows from the packed words: pair j = (value 2j, value 2j + 1).
/// The bit twiddling is quant_blocks.h's sl_k_scale_words, one row per 32-bit lane.
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

/// The row kernels' horizontal sum of their 8-lane accumulator (quant_avx2.c's hsum_ps), lane-wise.
INL __m256 lane_sums(const __m256 acc[8]) {
    const __m256 t0 = _mm256_add_ps(acc[0], acc[4]), t1 = _mm256_add_ps(acc[1], acc[5]);
    const __m256 t2 = _mm256_add_ps(acc[2], acc[6]), t3 = _mm256_add_ps(acc[3], acc[7]);
    return _mm256_add_ps(_mm256_add_ps(t0, t2), _mm256_add_ps(t1, t3));
}

/// The 8 rows of one group against one activation row. STEP adds lane l's scaled dots of chunk
/// (l, j) to isum: AVX2 with maddubs and madd by the doubled scale, VNNI with dpbusd and dpwssd.
#define Q4K_GROUP_KERNEL(NAME, ATTR, PREP, STEP)                                                       \
    ATTR static void NAME(const uint8_t *p, size_t nsuper, const sl_act_q8_K *a, float *y) {           \
        const __m256i m4 = _mm256_set1_epi8(0x0f);                                                     \
        __m256 acc[8], corr = _mm256_setzero_ps();                                                     \
        for (int l = 0; l < 8; l++) acc[l] = _mm256_setzero_ps();                                      \
        for (size_t i = 0; i < nsuper; i++, p += 8 * sizeof(sl_block_q4_K), a++) {                     \
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
        _mm256_storeu_ps(y, _mm256_sub_ps(lane_sums(acc), corr));                                      \
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

Q4K_GROUP_KERNEL(q4k_group_avx2, TGT, AVX2_PREP, AVX2_STEP)
Q4K_GROUP_KERNEL(q4k_group_vnni, VTGT, VNNI_PREP, VNNI_STEP)

/// Q6_K's -32 offset, lane l: scales 2l and 2l + 1 times the activation's 16-element sums 2l and
/// 2l + 1, as the row kernel's one madd of all 16 scales with all 16 sums lays them out.
/// x0, x1: the pairs of (s = 0, s = 1) as int16; e: the scale's place in the pair.
INL __m256i q6_offset(__m256i x0, __m256i x1, int e, const sl_act_q8_K *a, int l) {
    const __m256i pair = e == 0 ? _mm256_blend_epi16(x0, _mm256_slli_epi32(x1, 16), 0xAA)
                                : _mm256_blend_epi16(_mm256_srli_epi32(x0, 16), x1, 0xAA);
    const __m256i off = _mm256_madd_epi16(pair, bcast32(a->bsums + 2 * l));
    return _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(off, 5));
}

/// The four 32-element pieces (g = 0..3) of half h, lane l, 8 rows, unsigned 0..63.
INL void q6_quants(const uint8_t *c, __m256i e[4]) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3);
    const __m256i qa = _mm256_loadu_si256((const __m256i *)c), qb = _mm256_loadu_si256((const __m256i *)(c + 32));
    const __m256i qh = _mm256_loadu_si256((const __m256i *)(c + 64));
    e[0] = _mm256_or_si256(_mm256_and_si256(qa, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4));
    e[1] = _mm256_or_si256(_mm256_and_si256(qb, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4));
    e[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qa, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4));
    e[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qb, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4));
}

/// Q6_K: as Q4_K's kernel, with the -32 offset as each lane's starting sum and no mins.
#define Q6K_GROUP_KERNEL(NAME, ATTR, PREP, STEP)                                                       \
    ATTR static void NAME(const uint8_t *p, size_t nsuper, const sl_act_q8_K *a, float *y) {           \
        __m256 acc[8];                                                                                 \
        for (int l = 0; l < 8; l++) acc[l] = _mm256_setzero_ps();                                      \
        for (size_t i = 0; i < nsuper; i++, p += 8 * sizeof(sl_block_q6_K), a++) {                     \
            const __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)), _mm256_set1_ps(a->d)); \
            __m256i sp[8];                                                                             \
            for (int k = 0; k < 8; k++) sp[k] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(p + 16 + 16 * k))); \
            PREP                                                                                       \
            for (int l = 0; l < 8; l++) {                                                              \
                const int h = l / 4, g = l % 4, s = l >= 4;                                            \
                __m256i isum = q6_offset(sp[4 * h + g / 2], sp[4 * h + 2 + g / 2], g % 2, a, l);      \
                for (int hh = 0; hh < 2; hh++) {                                                       \
                    __m256i e[4];                                                                      \
                    q6_quants(p + 144 + 96 * (2 * l + hh), e);                                         \
                    const int8_t *xq = a->qs + 128 * hh + 4 * l;                                       \
                    STEP                                                                               \
                }                                                                                      \
                acc[l] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(isum), acc[l]);                         \
            }                                                                                          \
        }                                                                                              \
        _mm256_storeu_ps(y, lane_sums(acc));                                                           \
    }

// AVX2: every piece's scale doubled into int16 pairs. Pair k = 4h + 2s + p holds pieces 2p and 2p + 1.
#define Q6_AVX2_PREP                                                                                   \
    __m256i sd[16];                                                                                    \
    for (int k = 0; k < 8; k++) { sd[2 * k] = doubled(sp[k], 0); sd[2 * k + 1] = doubled(sp[k], 2); }
#define Q6_AVX2_STEP                                                                                   \
    for (int gg = 0; gg < 4; gg++) {                                                                   \
        const __m256i sc = sd[2 * (4 * hh + 2 * s + gg / 2) + gg % 2];                                 \
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(_mm256_maddubs_epi16(e[gg], bcast32(xq + 32 * gg)), sc)); \
    }
// VNNI: pieces 2p and 2p + 1 side by side as an int16 pair, times their scale pair in one dpwssd.
#define Q6_VNNI_PREP
#define Q6_VNNI_STEP                                                                                   \
    for (int pp = 0; pp < 2; pp++) {                                                                   \
        const __m256i zero = _mm256_setzero_si256();                                                   \
        const __m256i p0 = _mm256_dpbusd_epi32(zero, e[2 * pp], bcast32(xq + 64 * pp));               \
        const __m256i p1 = _mm256_dpbusd_epi32(zero, e[2 * pp + 1], bcast32(xq + 64 * pp + 32));       \
        isum = _mm256_dpwssd_epi32(isum, _mm256_blend_epi16(p0, _mm256_slli_epi32(p1, 16), 0xAA), sp[4 * hh + 2 * s + pp]); \
    }

Q6K_GROUP_KERNEL(q6k_group_avx2, TGT, Q6_AVX2_PREP, Q6_AVX2_STEP)
Q6K_GROUP_KERNEL(q6k_group_vnni, VTGT, Q6_VNNI_PREP, Q6_VNNI_STEP)

/// v[i] = dword i of rows 0..7 in, row r of the 8x8 dword matrix out at dst + r * stride.
INL void transpose_store(const __m256i v[8], uint8_t *dst, size_t stride) {
    __m256i a[8], b[8];
    for (int i = 0; i < 4; i++) {
        a[2 * i] = _mm256_unpacklo_epi32(v[2 * i], v[2 * i + 1]);
        a[2 * i + 1] = _mm256_unpackhi_epi32(v[2 * i], v[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        b[4 * i] = _mm256_unpacklo_epi64(a[4 * i], a[4 * i + 2]);
        b[4 * i + 1] = _mm256_unpackhi_epi64(a[4 * i], a[4 * i + 2]);
        b[4 * i + 2] = _mm256_unpacklo_epi64(a[4 * i + 1], a[4 * i + 3]);
        b[4 * i + 3] = _mm256_unpackhi_epi64(a[4 * i + 1], a[4 * i + 3]);
    }
    for (int r = 0; r < 4; r++) {
        _mm256_storeu_si256((__m256i *)(dst + r * stride), _mm256_permute2x128_si256(b[r], b[r + 4], 0x20));
        _mm256_storeu_si256((__m256i *)(dst + (r + 4) * stride), _mm256_permute2x128_si256(b[r], b[r + 4], 0x31));
    }
}

/// unpack_group's quants with 8x8 transposes (the batched path unpacks every group per call).
TGT static void unpack_group_avx2(int type, const uint8_t *p, size_t nsuper, uint8_t *out) {
    const size_t bb = sl_qtype_block_bytes(type), rowb = nsuper * bb;
    for (size_t i = 0; i < nsuper; i++, p += 8 * bb) {
        uint8_t *blk = out + i * bb;
        __m256i v[8];
        if (type == SL_QTYPE_Q4_K) {
            for (int r = 0; r < 8; r++) {
                memcpy(blk + r * rowb, p + 2 * r, 2);
                memcpy(blk + r * rowb + 2, p + 16 + 2 * r, 2);
                for (int k = 0; k < 3; k++) memcpy(blk + r * rowb + 4 + 4 * k, p + 32 + 32 * k + 4 * r, 4);
            }
            for (int j = 0; j < 4; j++) {
                for (int l = 0; l < 8; l++) v[l] = _mm256_loadu_si256((const __m256i *)(p + 128 + 32 * (4 * l + j)));
                transpose_store(v, blk + 16 + 32 * j, rowb);
            }
        } else {
            for (int r = 0; r < 8; r++) {
                memcpy(blk + r * rowb + 208, p + 2 * r, 2);
                for (size_t o = 192; o < 208; o++) blk[r * rowb + o] = p[packed_offset(SL_QTYPE_Q6_K, r, o)];
            }
            for (int h = 0; h < 2; h++)
                for (int c = 0; c < 3; c++) {  // ql first 32, ql second 32, qh
                    for (int l = 0; l < 8; l++) v[l] = _mm256_loadu_si256((const __m256i *)(p + 144 + 96 * (2 * l + h) + 32 * c));
                    transpose_store(v, blk + (c < 2 ? 64 * h + 32 * c : 128 + 32 * h), rowb);
                }
        }
    }
}
#endif

int sl_k_x8_matmul(int type, const void *w, size_t n, size_t r0, size_t r1, const void *x, size_t m, float *y, size_t ldy) {
    if (!sl_k_x8_type(type) || r0 % 8 != 0 || r1 % 8 != 0 || n % 256 != 0) return 0;
    const size_t nsuper = n / 256, gbb = group_block_bytes(type);
#if defined(__x86_64__)
    if (sl_quant_simd_active() && m < K_X8_TILE_MIN_ROWS) {
        const size_t xrow = sl_quant_act_row_bytes(type, n);
        const int vnni = sl_quant_vnni_active();
        void (*group)(const uint8_t *, size_t, const sl_act_q8_K *, float *) =
            type == SL_QTYPE_Q4_K ? (vnni ? q4k_group_vnni : q4k_group_avx2) : (vnni ? q6k_group_vnni : q6k_group_avx2);
        for (size_t g = r0 / 8; g < r1 / 8; g++)
            for (size_t c = 0; c < m; c++)
                group((const uint8_t *)w + g * nsuper * gbb, nsuper, (const sl_act_q8_K *)((const uint8_t *)x + c * xrow),
                      y + c * ldy + 8 * g);
        return 1;
    }
#endif
    uint8_t *rows = malloc(nsuper * gbb);
    if (!rows) return 0;
    for (size_t g = r0 / 8; g < r1 / 8; g++) {
#if defined(__x86_64__)
        if (sl_quant_simd_active()) unpack_group_avx2(type, (const uint8_t *)w + g * nsuper * gbb, nsuper, rows);
        else
#endif
        unpack_group(type, w, n, g, rows);
        sl_quant_matmul(type, rows, n, 0, 8, x, m, y + 8 * g, ldy);
    }
    free(rows);
    return 1;
}
