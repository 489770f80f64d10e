// Dot and axpy: the inner loops of attention. AVX2/FMA with 4 accumulators hides FMA latency.
#include "ShardlineKernels.h"
#include <math.h>
#if defined(__x86_64__)
#include <immintrin.h>
#include "simd_avx2.h"

// The horizontal sum every dot below ends with; one order, so sl_dot2_f32's dots are sl_dot_f32's.
__attribute__((target("avx2,fma")))
static inline float hsum4_avx2(__m256 acc0, __m256 acc1, __m256 acc2, __m256 acc3) {
    return sl_hsum_ps(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

__attribute__((target("avx2,fma")))
static float dot_avx2(const float *a, const float *b, size_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    float r = hsum4_avx2(acc0, acc1, acc2, acc3);
    for (; i < n; i++) r += a[i] * b[i];
    return r;
}

// q against two rows at once: two independent chains where one dot had only its own four,
// each dot adding in exactly dot_avx2's order.
__attribute__((target("avx2,fma")))
static void dot2_avx2(const float *q, const float *k0, const float *k1, size_t n, float *r0, float *r1) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256 q0 = _mm256_loadu_ps(q + i), q1 = _mm256_loadu_ps(q + i + 8);
        const __m256 q2 = _mm256_loadu_ps(q + i + 16), q3 = _mm256_loadu_ps(q + i + 24);
        a0 = _mm256_fmadd_ps(q0, _mm256_loadu_ps(k0 + i), a0);
        b0 = _mm256_fmadd_ps(q0, _mm256_loadu_ps(k1 + i), b0);
        a1 = _mm256_fmadd_ps(q1, _mm256_loadu_ps(k0 + i + 8), a1);
        b1 = _mm256_fmadd_ps(q1, _mm256_loadu_ps(k1 + i + 8), b1);
        a2 = _mm256_fmadd_ps(q2, _mm256_loadu_ps(k0 + i + 16), a2);
        b2 = _mm256_fmadd_ps(q2, _mm256_loadu_ps(k1 + i + 16), b2);
        a3 = _mm256_fmadd_ps(q3, _mm256_loadu_ps(k0 + i + 24), a3);
        b3 = _mm256_fmadd_ps(q3, _mm256_loadu_ps(k1 + i + 24), b3);
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 qv = _mm256_loadu_ps(q + i);
        a0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k0 + i), a0);
        b0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k1 + i), b0);
    }
    float x = hsum4_avx2(a0, a1, a2, a3), y = hsum4_avx2(b0, b1, b2, b3);
    for (; i < n; i++) { x += q[i] * k0[i]; y += q[i] * k1[i]; }
    *r0 = x;
    *r1 = y;
}

__attribute__((target("avx2,fma")))
static void axpy_avx2(float *y, const float *x, float alpha, size_t n) {
    __m256 va = _mm256_set1_ps(alpha);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += alpha * x[i];
}
#endif

static float dot_portable(const float *a, const float *b, size_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

float sl_dot_f32(const float *a, const float *b, size_t n) {
#if defined(__x86_64__)
    if (sl_has_avx2_fma()) return dot_avx2(a, b, n);
#endif
    return dot_portable(a, b, n);
}

void sl_dot2_f32(const float *q, const float *b0, const float *b1, size_t n, float *r0, float *r1) {
#if defined(__x86_64__)
    if (sl_has_avx2_fma()) { dot2_avx2(q, b0, b1, n, r0, r1); return; }
#endif
    *r0 = dot_portable(q, b0, n);
    *r1 = dot_portable(q, b1, n);
}

void sl_axpy_f32(float *y, const float *x, float alpha, size_t n) {
#if defined(__x86_64__)
    if (sl_has_avx2_fma()) { axpy_avx2(y, x, alpha, n); return; }
#endif
    for (size_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

#if defined(__x86_64__)
__attribute__((target("avx2")))
static float sum_avx2(const float *x, size_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
        a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
    }
    __m256 a = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    float lanes[8];
    _mm256_storeu_ps(lanes, a);
    float s = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
    for (; i < n; i++) s += x[i];
    return s;
}
#endif

float sl_sum_f32(const float *x, size_t n) {
#if defined(__x86_64__)
    if (sl_has_avx2_fma()) return sum_avx2(x, n);
#endif
    float s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    return s;
}

// Greedy sampling's argmax over a vocabulary row (262,144 wide for Gemma): a max pass and a
// find pass, both vectorised, instead of one loop whose compare-and-branch cannot be.
#if defined(__x86_64__)
__attribute__((target("avx2")))
static size_t argmax_avx2(const float *x, size_t n) {
    // max_ps returns its second operand when the first is NaN, so NaNs never enter the max.
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 a0 = ninf, a1 = ninf, a2 = ninf, a3 = ninf;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_max_ps(_mm256_loadu_ps(x + i), a0);
        a1 = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), a1);
        a2 = _mm256_max_ps(_mm256_loadu_ps(x + i + 16), a2);
        a3 = _mm256_max_ps(_mm256_loadu_ps(x + i + 24), a3);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_max_ps(_mm256_max_ps(a0, a1), _mm256_max_ps(a2, a3)));
    float m = -INFINITY;
    for (int k = 0; k < 8; k++) m = lanes[k] > m ? lanes[k] : m;
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    const __m256 mv = _mm256_set1_ps(m);
    for (i = 0; i + 8 <= n; i += 8) {
        int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), mv, _CMP_EQ_OQ));
        if (mask) return i + (size_t)__builtin_ctz((unsigned)mask);
    }
    for (; i < n; i++) if (x[i] == m) return i;
    return 0;
}
#endif

size_t sl_argmax_f32(const float *x, size_t n) {
#if defined(__x86_64__)
    if (sl_has_avx2_fma()) return argmax_avx2(x, n);
#endif
    float m = -INFINITY;
    for (size_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    for (size_t i = 0; i < n; i++) if (x[i] == m) return i;
    return 0;
}
