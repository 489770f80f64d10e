// Decode attention kernel (sl_paged_attention_group_f32) alone: microseconds per call for one
// KV head with Gemma 3 270M's shape (4 query heads, head_dim 256, 16-token blocks), on
// contexts of 48-600 positions. "cold": the blocks come from a 256 MB cache, a new random
// (or, with SEQ=1, consecutive) set each call, as a decode step after the LM head finds them;
// "warm": the same call again. Build and run: `make bench-attention`.
#define _GNU_SOURCE
#include "ShardlineKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/mman.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(void) {
    const size_t blocks = 8192, block_size = 16, head_dim = 256, group = 4, per = blocks * block_size * head_dim;
    float *k = mmap(0, per * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    float *v = mmap(0, per * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (k == MAP_FAILED || v == MAP_FAILED) { perror("mmap"); return 1; }
    srand(1);
    for (size_t i = 0; i < per; i++) { k[i] = rand() / (float)RAND_MAX - 0.5f; v[i] = rand() / (float)RAND_MAX - 0.5f; }
    float q[4 * 256], out[4 * 256], mx[4], sum[4];
    for (int i = 0; i < 4 * 256; i++) q[i] = rand() / (float)RAND_MAX - 0.5f;
    float *scratch = aligned_alloc(64, (group + 4) * 4096 * sizeof(float));
    const int sequential = getenv("SEQ") != NULL, trials = 400;
    printf("%s blocks; us per call (4 heads x 256, one KV head)\n", sequential ? "consecutive" : "random");
    const size_t contexts[] = {48, 96, 300, 600};
    for (int c = 0; c < 4; c++) {
        const size_t n = contexts[c], nb = (n + block_size - 1) / block_size;
        int32_t table[64];
        double cold = 0, warm = 0;
        for (int t = 0; t < trials; t++) {
            const int32_t base = rand() % (int32_t)(blocks - 64);
            for (size_t b = 0; b < nb; b++) table[b] = sequential ? base + (int32_t)b : rand() % (int32_t)blocks;
            for (int pass = 0; pass < 2; pass++) {
                const double s = now();
                sl_paged_attention_group_f32(q, k, v, table, block_size, 1, 0, head_dim, group, 0, n - 1, 0.0625f,
                                             scratch, out, mx, sum);
                *(pass ? &warm : &cold) += now() - s;
            }
        }
        printf("context %4zu: cold %7.2f  warm %7.2f\n", n, cold / trials * 1e6, warm / trials * 1e6);
    }
    return 0;
}
