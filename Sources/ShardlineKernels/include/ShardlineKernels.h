// SIMD inner loops for Shardline. No allocation, no threads: callers own memory and parallelism.
// ISA-specific variants (AVX2/FMA) are chosen at run time; every kernel has a portable fallback.
#ifndef SHARDLINE_KERNELS_H
#define SHARDLINE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the AVX2+FMA paths are in use on this CPU.
int sl_has_avx2_fma(void);
/// A spin-wait hint (x86 `pause`), for the thread pool's spin loop.
void sl_cpu_relax(void);
/// Mean nanoseconds for a cache line to go from CPU a to CPU b and back (two threads pinned there),
/// over `trips` round trips; -1 when the threads cannot be pinned.
double sl_core_round_trip_ns(int cpu_a, int cpu_b, int trips);
/// Asks the cache for the n bytes at p (one prefetch per 64-byte line); never faults.
void sl_prefetch(const void *p, size_t n);
/// Has malloc serve allocations below `bytes` from its heap and keep freed memory (glibc's
/// mallopt); 1 when applied. For per-step buffers that would otherwise be fresh pages each step.
int sl_malloc_reuse_below(size_t bytes);

float sl_dot_f32(const float *a, const float *b, size_t n);
/// Two dots of q against b0 and b1 in one pass, each summed in sl_dot_f32's order.
void sl_dot2_f32(const float *q, const float *b0, const float *b1, size_t n, float *r0, float *r1);
/// y += alpha * x
void sl_axpy_f32(float *y, const float *x, float alpha, size_t n);
/// Sum of x: a streaming read, used to measure memory bandwidth.
float sl_sum_f32(const float *x, size_t n);
/// Index of the first largest non-NaN value of x (+0 and -0 tie); 0 when there is none.
size_t sl_argmax_f32(const float *x, size_t n);

/// out = x / rms(x) * (w or 1 + w). `unit_offset` selects Gemma's (1 + w).
void sl_rmsnorm_f32(const float *x, const float *w, float *out, size_t n, float eps, int unit_offset);
/// Rotary embedding, rotate-half (GPT-NeoX/HF) layout, in place on `n_heads` heads of `head_dim`.
/// `cos`/`sin` hold head_dim/2 values for this token's position.
void sl_rope_f32(float *x, size_t n_heads, size_t head_dim, const float *cos, const float *sin);
/// out[i] = silu(gate[i]) * up[i], i < n. Fused [gate | up] rows pass (row, row + n).
void sl_silu_mul_f32(const float *gate, const float *up, float *out, size_t n);
/// out[i] = gelu_tanh(gate[i]) * up[i], i < n.
void sl_gelu_tanh_mul_f32(const float *gate, const float *up, float *out, size_t n);
/// In-place numerically stable softmax.
void sl_softmax_f32(float *x, size_t n);
/// The same softmax, also giving the max of x and the sum of exp(x - max).
void sl_softmax_stats_f32(float *x, size_t n, float *max, float *sum);

/// Attention of the `group` query heads that share KV head `kv_head`, for one query row,
/// over paged K/V. Cache layout: [num_blocks][block_size][num_kv_heads][head_dim], keys and
/// values separately. Keys at positions [first_pos, last_pos] are attended (the causal end,
/// the sliding-window start, or one partition of a long context are the caller's). `q` and
/// `out` hold the group's heads back to back. `scratch`, 8-byte aligned, holds at
/// least (group + 4) * (last_pos - first_pos + 1) floats. When not NULL, `head_max` and `head_sum`
/// receive each head's largest scaled score and sum of exp(score - max), to merge partitions.
void sl_paged_attention_group_f32(
    const float *q, const float *key_cache, const float *value_cache,
    const int32_t *block_table, size_t block_size, size_t num_kv_heads, size_t kv_head,
    size_t head_dim, size_t group, size_t first_pos, size_t last_pos, float scale,
    float *scratch, float *out, float *head_max, float *head_sum);

#ifdef __cplusplus
}
#endif
#include "ShardlineQuant.h"
#endif
