// Norms and activations. Plain loops the compiler vectorizes, and for the gated activations
// (transcendentals the compiler cannot vectorize) an AVX2 path in activation_avx2.c.
#include "ShardlineKernels.h"
#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>
// Sixteen double partial sums: one chain of dependent adds over a 640-wide row was ~2.5k
// cycles, and a Gemma step norms 162 rows. x² is exact in double, so only the order of the
// additions differs from the loop below (parts in 1e-16).
__attribute__((target("avx2,fma")))
static double sum_squares_avx2(const float *x, size_t n) {
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256d x0 = _mm256_cvtps_pd(_mm_loadu_ps(x + i)), x1 = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4));
        const __m256d x2 = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 8)), x3 = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 12));
        a0 = _mm256_fmadd_pd(x0, x0, a0);
        a1 = _mm256_fmadd_pd(x1, x1, a1);
        a2 = _mm256_fmadd_pd(x2, x2, a2);
        a3 = _mm256_fmadd_pd(x3, x3, a3);
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
    double ss = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; i < n; i++) ss += (double)x[i] * x[i];
    return ss;
}
#endif

void sl_rmsnorm_f32(const float *x, const float *w, float *out, size_t n, float eps, int unit_offset) {
    double ss = 0;  // double: matches PyTorch's f32 result closely for long rows
#if defined(__x86_64__)
    if (sl_has_avx2_fma()) ss = sum_squares_avx2(x, n);
    else
#endif
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float inv = 1.0f / sqrtf((float)(ss / (double)n) + eps);
    if (unit_offset) {
        for (size_t i = 0; i < n; i++) out[i] = x[i] * inv * (1.0f + w[i]);
    } else {
        for (size_t i = 0; i < n; i++) out[i] = x[i] * inv * w[i];
    }
}

void sl_rope_f32(float *x, size_t n_heads, size_t head_dim, const float *cos, const float *sin) {
    size_t half = head_dim / 2;
    for (size_t h = 0; h < n_heads; h++) {
        float *v = x + h * head_dim;
        for (size_t i = 0; i < half; i++) {
            float a = v[i], b = v[i + half];
            v[i] = a * cos[i] - b * sin[i];
            v[i + half] = b * cos[i] + a * sin[i];
        }
    }
}

size_t sl_gelu_tanh_mul_avx2(const float *gate, const float *up, float *out, size_t n);
size_t sl_silu_mul_avx2(const float *gate, const float *up, float *out, size_t n);

void sl_silu_mul_f32(const float *gate, const float *up, float *out, size_t n) {
    size_t start = sl_has_avx2_fma() ? sl_silu_mul_avx2(gate, up, out, n) : 0;
    for (size_t i = start; i < n; i++) {
        float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void sl_gelu_tanh_mul_f32(const float *gate, const float *up, float *out, size_t n) {
    const float k = 0.7978845608028654f;  // sqrt(2/pi)
    size_t start = sl_has_avx2_fma() ? sl_gelu_tanh_mul_avx2(gate, up, out, n) : 0;
    for (size_t i = start; i < n; i++) {
        float g = gate[i];
        out[i] = 0.5f * g * (1.0f + tanhf(k * (g + 0.044715f * g * g * g))) * up[i];
    }
}

void sl_softmax_stats_f32(float *x, size_t n, float *max, float *sum_out) {
    if (n == 0) { *max = -INFINITY; *sum_out = 0; return; }
    float m = x[0];
    for (size_t i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
    float sum = 0;
    for (size_t i = 0; i < n; i++) { x[i] = expf(x[i] - m); sum += x[i]; }
    float inv = 1.0f / sum;
    for (size_t i = 0; i < n; i++) x[i] *= inv;
    *max = m;
    *sum_out = sum;
}

void sl_softmax_f32(float *x, size_t n) {
    float m, sum;
    sl_softmax_stats_f32(x, n, &m, &sum);
}
