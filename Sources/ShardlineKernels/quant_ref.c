// Quantized formats: sizes, reference dequantization, activation quantization, the portable row
// kernels and the matrix driver that picks the AVX2 kernels (quant_avx2.c) at run time.
#include "ShardlineKernels.h"
#include "quant_blocks.h"
#include <string.h>

_Static_assert(sizeof(sl_block_q4_0) == 18, "q4_0 block");
_Static_assert(sizeof(sl_block_q5_0) == 22, "q5_0 block");
_Static_assert(sizeof(sl_block_q8_0) == 34, "q8_0 block");
_Static_assert(sizeof(sl_block_q4_K) == 144, "q4_K block");
_Static_assert(sizeof(sl_block_q5_K) == 176, "q5_K block");
_Static_assert(sizeof(sl_block_q6_K) == 210, "q6_K block");
_Static_assert(sizeof(sl_act_q8_32) == 40, "act q8_32 block");
_Static_assert(sizeof(sl_act_q8_K) == 292, "act q8_K block");

// ---------------------------------------------------------------- sizes

size_t sl_qtype_block_size(int type) {
    switch (type) {
    case SL_QTYPE_F32: case SL_QTYPE_F16: case SL_QTYPE_BF16: return 1;
    case SL_QTYPE_Q4_0: case SL_QTYPE_Q5_0: case SL_QTYPE_Q8_0: return 32;
    case SL_QTYPE_Q4_K: case SL_QTYPE_Q5_K: case SL_QTYPE_Q6_K: return 256;
    default: return 0;
    }
}

size_t sl_qtype_block_bytes(int type) {
    switch (type) {
    case SL_QTYPE_F32: return 4;
    case SL_QTYPE_F16: case SL_QTYPE_BF16: return 2;
    case SL_QTYPE_Q4_0: return sizeof(sl_block_q4_0);
    case SL_QTYPE_Q5_0: return sizeof(sl_block_q5_0);
    case SL_QTYPE_Q8_0: return sizeof(sl_block_q8_0);
    case SL_QTYPE_Q4_K: return sizeof(sl_block_q4_K);
    case SL_QTYPE_Q5_K: return sizeof(sl_block_q5_K);
    case SL_QTYPE_Q6_K: return sizeof(sl_block_q6_K);
    default: return 0;
    }
}

size_t sl_qtype_row_bytes(int type, size_t n) {
    size_t bs = sl_qtype_block_size(type);
    if (bs == 0 || n % bs != 0) return 0;
    return n / bs * sl_qtype_block_bytes(type);
}

static int act_kind(int weight_type) {  // 0: f32, 1: q8_32, 2: q8_K
    switch (weight_type) {
    case SL_QTYPE_Q4_0: case SL_QTYPE_Q5_0: case SL_QTYPE_Q8_0: return 1;
    case SL_QTYPE_Q4_K: case SL_QTYPE_Q5_K: case SL_QTYPE_Q6_K: return 2;
    default: return 0;
    }
}

int sl_quant_act_kind(int weight_type) { return act_kind(weight_type); }

size_t sl_quant_act_row_bytes(int weight_type, size_t n) {
    switch (act_kind(weight_type)) {
    case 1: return n % 32 ? 0 : n / 32 * sizeof(sl_act_q8_32);
    case 2: return n % 256 ? 0 : n / 256 * sizeof(sl_act_q8_K);
    default: return n * sizeof(float);
    }
}

// ---------------------------------------------------------------- scalar helpers

float sl_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0) {
        float f = (float)mant * 5.9604644775390625e-8f;  // subnormal: mant * 2^-24
        return sign ? -f : f;
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline float bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t rd16(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/// Round to nearest, ties to even, for |v| < 2^22 (adds 1.5·2^23 and reads the mantissa).
static inline int round_nearest(float v) {
    float t = v + 12582912.0f;
    int32_t i;
    memcpy(&i, &t, 4);
    return (i & 0x7fffff) - 0x400000;
}

/// The 6-bit scales and mins of a Q4_K/Q5_K super-block (layout in quant_blocks.h).
static inline void k_scales(const uint8_t *q, uint8_t sc[8], uint8_t mn[8]) {
    uint32_t s0, s1, m0, m1;
    sl_k_scale_words(q, &s0, &s1, &m0, &m1);
    memcpy(sc, &s0, 4); memcpy(sc + 4, &s1, 4);
    memcpy(mn, &m0, 4); memcpy(mn + 4, &m1, 4);
}

// ---------------------------------------------------------------- reference dequantization

void sl_dequantize_row(int type, const void *src, float *y, size_t n) {
    switch (type) {
    case SL_QTYPE_F32:
        memcpy(y, src, n * 4);
        return;
    case SL_QTYPE_F16: {
        const uint8_t *p = src;
        for (size_t i = 0; i < n; i++) y[i] = sl_f16_to_f32(rd16(p + 2 * i));
        return;
    }
    case SL_QTYPE_BF16: {
        const uint8_t *p = src;
        for (size_t i = 0; i < n; i++) y[i] = bf16_to_f32(rd16(p + 2 * i));
        return;
    }
    case SL_QTYPE_Q4_0: {
        const sl_block_q4_0 *b = src;
        for (size_t i = 0; i < n / 32; i++, b++, y += 32) {
            float d = sl_f16_to_f32(b->d);
            for (int j = 0; j < 16; j++) {
                y[j] = (float)((b->qs[j] & 0xf) - 8) * d;
                y[j + 16] = (float)((b->qs[j] >> 4) - 8) * d;
            }
        }
        return;
    }
    case SL_QTYPE_Q5_0: {
        const sl_block_q5_0 *b = src;
        for (size_t i = 0; i < n / 32; i++, b++, y += 32) {
            float d = sl_f16_to_f32(b->d);
            uint32_t qh = (uint32_t)b->qh[0] | (uint32_t)b->qh[1] << 8 | (uint32_t)b->qh[2] << 16 | (uint32_t)b->qh[3] << 24;
            for (int j = 0; j < 16; j++) {
                int lo = (b->qs[j] & 0xf) | (int)((qh >> j) & 1) << 4;
                int hi = (b->qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
                y[j] = (float)(lo - 16) * d;
                y[j + 16] = (float)(hi - 16) * d;
            }
        }
        return;
    }
    case SL_QTYPE_Q8_0: {
        const sl_block_q8_0 *b = src;
        for (size_t i = 0; i < n / 32; i++, b++, y += 32) {
            float d = sl_f16_to_f32(b->d);
            for (int j = 0; j < 32; j++) y[j] = (float)b->qs[j] * d;
        }
        return;
    }
    case SL_QTYPE_Q4_K: case SL_QTYPE_Q5_K: {
        int five = type == SL_QTYPE_Q5_K;
        const uint8_t *p = src;
        size_t bb = five ? sizeof(sl_block_q5_K) : sizeof(sl_block_q4_K);
        for (size_t i = 0; i < n / 256; i++, p += bb, y += 256) {
            float d = sl_f16_to_f32(rd16(p)), dmin = sl_f16_to_f32(rd16(p + 2));
            uint8_t sc[8], mn[8];
            k_scales(p + 4, sc, mn);
            const uint8_t *qh = p + 16, *qs = p + (five ? 48 : 16);
            for (int j = 0; j < 8; j++) {
                float ds = d * sc[j], dm = dmin * mn[j];
                const uint8_t *q = qs + 32 * (j / 2);
                for (int l = 0; l < 32; l++) {
                    int v = (j & 1) ? q[l] >> 4 : q[l] & 0xf;
                    if (five) v |= ((qh[l] >> j) & 1) << 4;
                    y[32 * j + l] = ds * (float)v - dm;
                }
            }
        }
        return;
    }
    case SL_QTYPE_Q6_K: {
        const sl_block_q6_K *b = src;
        for (size_t i = 0; i < n / 256; i++, b++, y += 256) {
            float d = sl_f16_to_f32(b->d);
            for (int h = 0; h < 2; h++) {
                const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
                for (int e = 0; e < 128; e++) {
                    int l = e & 31, quarter = e >> 5;  // quarter 0..3: (ql lo, ql+32 lo, ql hi, ql+32 hi)
                    int lo = (quarter & 1) ? ql[l + 32] : ql[l];
                    lo = (quarter & 2) ? lo >> 4 : lo & 0xf;
                    int v = lo | ((qh[l] >> (2 * quarter)) & 3) << 4;
                    y[128 * h + e] = d * (float)b->scales[8 * h + e / 16] * (float)(v - 32);
                }
            }
        }
        return;
    }
    default:
        return;
    }
}

// ---------------------------------------------------------------- activation quantization

void sl_quantize_act_row(int weight_type, const float *x, void *dst, size_t n) {
#if defined(__x86_64__)
    if (sl_quant_simd_active() && sl_quantize_act_row_avx2(act_kind(weight_type), x, dst, n)) return;
#endif
    switch (act_kind(weight_type)) {
    case 1: {
        sl_act_q8_32 *b = dst;
        for (size_t i = 0; i < n / 32; i++, b++, x += 32) {
            float amax = 0;
            for (int j = 0; j < 32; j++) { float a = x[j] < 0 ? -x[j] : x[j]; amax = a > amax ? a : amax; }
            float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                int q = round_nearest(x[j] * id);
                q = q > 127 ? 127 : (q < -127 ? -127 : q);
                b->qs[j] = (int8_t)q;
                sum += q;
            }
            b->d = d;
            b->s = d * (float)sum;
        }
        return;
    }
    case 2: {
        sl_act_q8_K *b = dst;
        for (size_t i = 0; i < n / 256; i++, b++, x += 256) {
            float amax = 0;
            for (int j = 0; j < 256; j++) { float a = x[j] < 0 ? -x[j] : x[j]; amax = a > amax ? a : amax; }
            float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
            for (int g = 0; g < 16; g++) {
                int sum = 0;
                for (int j = 16 * g; j < 16 * g + 16; j++) {
                    int q = round_nearest(x[j] * id);
                    q = q > 127 ? 127 : (q < -127 ? -127 : q);
                    b->qs[j] = (int8_t)q;
                    sum += q;
                }
                b->bsums[g] = (int16_t)sum;
            }
            b->d = d;
        }
        return;
    }
    default:
        memcpy(dst, x, n * sizeof(float));
        return;
    }
}

void sl_dequantize_act_row(int weight_type, const void *src, float *y, size_t n) {
    switch (act_kind(weight_type)) {
    case 1: {
        const sl_act_q8_32 *b = src;
        for (size_t i = 0; i < n / 32; i++, b++, y += 32)
            for (int j = 0; j < 32; j++) y[j] = (float)b->qs[j] * b->d;
        return;
    }
    case 2: {
        const sl_act_q8_K *b = src;
        for (size_t i = 0; i < n / 256; i++, b++, y += 256)
            for (int j = 0; j < 256; j++) y[j] = (float)b->qs[j] * b->d;
        return;
    }
    default:
        memcpy(y, src, n * sizeof(float));
        return;
    }
}

// ---------------------------------------------------------------- portable row kernels
// One weight row against nr activation rows; the same integer block dots as the AVX2 kernels.

static float dot1_q4_0(const void *w, size_t n, const void *xa) {
    const sl_block_q4_0 *b = w;
    const sl_act_q8_32 *a = xa;
    float acc = 0, corr = 0;
    for (size_t i = 0; i < n / 32; i++) {
        float dw = sl_f16_to_f32(b[i].d);
        int s = 0;
        for (int j = 0; j < 16; j++) s += (b[i].qs[j] & 0xf) * a[i].qs[j] + (b[i].qs[j] >> 4) * a[i].qs[j + 16];
        acc += dw * a[i].d * (float)s;
        corr += dw * a[i].s;
    }
    return acc - 8.0f * corr;
}

static float dot1_q5_0(const void *w, size_t n, const void *xa) {
    const sl_block_q5_0 *b = w;
    const sl_act_q8_32 *a = xa;
    float acc = 0, corr = 0;
    for (size_t i = 0; i < n / 32; i++) {
        float dw = sl_f16_to_f32(b[i].d);
        uint32_t qh;
        memcpy(&qh, b[i].qh, 4);
        int s = 0;
        for (int j = 0; j < 16; j++) {
            int lo = (b[i].qs[j] & 0xf) | (int)((qh >> j) & 1) << 4;
            int hi = (b[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            s += lo * a[i].qs[j] + hi * a[i].qs[j + 16];
        }
        acc += dw * a[i].d * (float)s;
        corr += dw * a[i].s;
    }
    return acc - 16.0f * corr;
}

static float dot1_q8_0(const void *w, size_t n, const void *xa) {
    const sl_block_q8_0 *b = w;
    const sl_act_q8_32 *a = xa;
    float acc = 0;
    for (size_t i = 0; i < n / 32; i++) {
        int s = 0;
        for (int j = 0; j < 32; j++) s += b[i].qs[j] * a[i].qs[j];
        acc += sl_f16_to_f32(b[i].d) * a[i].d * (float)s;
    }
    return acc;
}

static float dot1_qk45(const void *w, size_t n, const void *xa, int five) {
    const uint8_t *p = w;
    const sl_act_q8_K *a = xa;
    size_t bb = five ? sizeof(sl_block_q5_K) : sizeof(sl_block_q4_K);
    float acc = 0;
    for (size_t i = 0; i < n / 256; i++, p += bb, a++) {
        uint8_t sc[8], mn[8];
        k_scales(p + 4, sc, mn);
        const uint8_t *qh = p + 16, *qs = p + (five ? 48 : 16);
        int isum = 0, msum = 0;
        for (int j = 0; j < 8; j++) {
            const uint8_t *q = qs + 32 * (j / 2);
            int s = 0;
            for (int l = 0; l < 32; l++) {
                int v = (j & 1) ? q[l] >> 4 : q[l] & 0xf;
                if (five) v |= ((qh[l] >> j) & 1) << 4;
                s += v * a->qs[32 * j + l];
            }
            isum += sc[j] * s;
            msum += mn[j] * (a->bsums[2 * j] + a->bsums[2 * j + 1]);
        }
        acc += sl_f16_to_f32(rd16(p)) * a->d * (float)isum - sl_f16_to_f32(rd16(p + 2)) * a->d * (float)msum;
    }
    return acc;
}
static float dot1_q4_K(const void *w, size_t n, const void *xa) { return dot1_qk45(w, n, xa, 0); }
static float dot1_q5_K(const void *w, size_t n, const void *xa) { return dot1_qk45(w, n, xa, 1); }

static float dot1_q6_K(const void *w, size_t n, const void *xa) {
    const sl_block_q6_K *b = w;
    const sl_act_q8_K *a = xa;
    float acc = 0;
    for (size_t i = 0; i < n / 256; i++, b++, a++) {
        int isum = 0;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
            for (int g = 0; g < 8; g++) {  // groups of 16 within the half
                int s = 0;
                for (int e = 16 * g; e < 16 * g + 16; e++) {
                    int l = e & 31, quarter = e >> 5;
                    int lo = (quarter & 1) ? ql[l + 32] : ql[l];
                    lo = (quarter & 2) ? lo >> 4 : lo & 0xf;
                    int v = lo | ((qh[l] >> (2 * quarter)) & 3) << 4;
                    s += v * a->qs[128 * h + e];
                }
                int gi = 8 * h + g;
                isum += b->scales[gi] * (s - 32 * a->bsums[gi]);
            }
        }
        acc += sl_f16_to_f32(b->d) * a->d * (float)isum;
    }
    return acc;
}

static float dot1_f32(const void *w, size_t n, const void *xa) {
    const float *a = w, *b = xa;
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

static float dot1_f16(const void *w, size_t n, const void *xa) {
    const uint8_t *p = w;
    const float *b = xa;
    float s0 = 0, s1 = 0;
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        s0 += sl_f16_to_f32(rd16(p + 2 * i)) * b[i];
        s1 += sl_f16_to_f32(rd16(p + 2 * i + 2)) * b[i + 1];
    }
    for (; i < n; i++) s0 += sl_f16_to_f32(rd16(p + 2 * i)) * b[i];
    return s0 + s1;
}

static float dot1_bf16(const void *w, size_t n, const void *xa) {
    const uint8_t *p = w;
    const float *b = xa;
    float s0 = 0, s1 = 0;
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        s0 += bf16_to_f32(rd16(p + 2 * i)) * b[i];
        s1 += bf16_to_f32(rd16(p + 2 * i + 2)) * b[i + 1];
    }
    for (; i < n; i++) s0 += bf16_to_f32(rd16(p + 2 * i)) * b[i];
    return s0 + s1;
}

typedef float (*dot1_fn)(const void *w, size_t n, const void *xa);

static dot1_fn portable_dot(int type) {
    switch (type) {
    case SL_QTYPE_F32: return dot1_f32;
    case SL_QTYPE_F16: return dot1_f16;
    case SL_QTYPE_BF16: return dot1_bf16;
    case SL_QTYPE_Q4_0: return dot1_q4_0;
    case SL_QTYPE_Q5_0: return dot1_q5_0;
    case SL_QTYPE_Q8_0: return dot1_q8_0;
    case SL_QTYPE_Q4_K: return dot1_q4_K;
    case SL_QTYPE_Q5_K: return dot1_q5_K;
    case SL_QTYPE_Q6_K: return dot1_q6_K;
    default: return 0;
    }
}

// ---------------------------------------------------------------- dispatch and the matrix driver

static _Thread_local int force_portable_tls;

void sl_quant_force_portable(int on) { force_portable_tls = on != 0; }

static int simd_usable(void) {
#if defined(__x86_64__)
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = sl_has_avx2_fma() && __builtin_cpu_supports("f16c");
    }
    return cached;
#else
    return 0;
#endif
}

int sl_quant_simd_active(void) { return simd_usable() && !force_portable_tls; }

/// Activation rows from which the tile kernels (which unpack every weight row first) beat the
/// row kernels. Zen 4, one thread, 640x2048 Q4_K: 4 rows 102 us (row kernels) against 247
/// (tile, AVX2) and 223 (VNNI); 8 rows 205 against 311 and 261; 32 rows 822 against 671 and
/// 473; Q6_K alike. From 12 to 16 rows the two are within this VM's noise.
#define SL_TILE_MIN_ROWS 12

void sl_quant_matmul(int type, const void *w, size_t n, size_t r0, size_t r1,
                     const void *x, size_t m, float *y, size_t ldy) {
    size_t wrow = sl_qtype_row_bytes(type, n), xrow = sl_quant_act_row_bytes(type, n);
    if (wrow == 0 || xrow == 0 || r1 <= r0 || m == 0) return;
    const uint8_t *wb = w, *xb = x;
    sl_quant_rows_fn rows = 0;
#if defined(__x86_64__)
    if (sl_quant_simd_active()) {
        // Batches unpack 8 weight rows once into a tile that every activation row reuses.
        if (m >= SL_TILE_MIN_ROWS && sl_quant_tile_supported(type) && sl_quant_matmul_tiled(type, w, n, r0, r1, x, m, y, ldy))
            return;
        rows = sl_quant_rows_avx2(type);
    }
#endif
    // Weight rows in groups of about 32 KiB, so the group stays in L1/L2 while every group of
    // 4 activation rows passes over it.
    size_t rb = wrow >= 32768 ? 1 : 32768 / wrow;
    for (size_t r = r0; r < r1; r += rb) {
        size_t re = r + rb < r1 ? r + rb : r1;
        for (size_t mm = 0; mm < m; mm += 4) {
            size_t nr = m - mm < 4 ? m - mm : 4;
            const uint8_t *xm = xb + mm * xrow;
            float *ym = y + mm * ldy;
            if (rows) {
                for (size_t rr = r; rr < re; rr++) rows(wb + rr * wrow, n, xm, xrow, nr, ym + rr, ldy);
            } else {
                dot1_fn dot = portable_dot(type);
                for (size_t rr = r; rr < re; rr++)
                    for (size_t k = 0; k < nr; k++) ym[k * ldy + rr] = dot(wb + rr * wrow, n, xm + k * xrow);
            }
        }
    }
}

float sl_quant_dot(int type, const void *w_row, const void *x_act, size_t n) {
    float y = 0;
    sl_quant_matmul(type, w_row, n, 0, 1, x_act, 1, &y, 1);
    return y;
}
