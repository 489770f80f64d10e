// One query head against keys/values stored in fixed-size blocks: the block table maps a
// logical position p to physical block block_table[p / block_size], row p % block_size.
#include "ShardlineKernels.h"

static inline size_t slot_offset(const int32_t *block_table, size_t block_size,
                                 size_t num_kv_heads, size_t kv_head, size_t head_dim, size_t pos) {
    size_t block = (size_t)block_table[pos / block_size];
    size_t row = block * block_size + pos % block_size;
    return (row * num_kv_heads + kv_head) * head_dim;
}

void sl_paged_attention_head_f32(
    const float *q, const float *key_cache, const float *value_cache,
    const int32_t *block_table, size_t block_size, size_t num_kv_heads, size_t kv_head,
    size_t head_dim, size_t first_pos, size_t last_pos, float scale,
    float *scores, float *out) {
    size_t n = last_pos - first_pos + 1;
    for (size_t p = first_pos; p <= last_pos; p++) {
        size_t off = slot_offset(block_table, block_size, num_kv_heads, kv_head, head_dim, p);
        scores[p - first_pos] = sl_dot_f32(q, key_cache + off, head_dim) * scale;
    }
    sl_softmax_f32(scores, n);
    for (size_t d = 0; d < head_dim; d++) out[d] = 0;
    for (size_t p = first_pos; p <= last_pos; p++) {
        size_t off = slot_offset(block_table, block_size, num_kv_heads, kv_head, head_dim, p);
        sl_axpy_f32(out, value_cache + off, scores[p - first_pos], head_dim);
    }
}
