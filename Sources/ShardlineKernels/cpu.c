#include "ShardlineKernels.h"

int sl_has_avx2_fma(void) {
#if defined(__x86_64__) || defined(__i386__)
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
#else
    return 0;
#endif
}

void sl_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

void sl_prefetch(const void *p, size_t n) {
    const char *c = p;
    for (size_t i = 0; i < n; i += 64) __builtin_prefetch(c + i, 0, 3);
}
