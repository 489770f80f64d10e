#include "ShardlineQuant.h"

#include <math.h>
#include <pthread.h>

// E4M3 has 256 codes: decode through a table built once.
static float e4m3_table[256];
static pthread_once_t e4m3_once = PTHREAD_ONCE_INIT;

static void e4m3_build(void) {
    for (int c = 0; c < 256; c++) {
        int sign = c >> 7, exp = (c >> 3) & 0xF, man = c & 7;
        float v;
        if (exp == 0xF && man == 7) v = NAN;
        else if (exp == 0) v = ldexpf((float)man / 8.0f, -6);
        else v = ldexpf(1.0f + (float)man / 8.0f, exp - 7);
        e4m3_table[c] = sign ? -v : v;
    }
}

void sl_fp8_e4m3_to_f32(const uint8_t *src, float scale, float *dst, size_t n) {
    pthread_once(&e4m3_once, e4m3_build);
    for (size_t i = 0; i < n; i++) dst[i] = e4m3_table[src[i]] * scale;
}

void sl_int8_to_f32(const uint8_t *src, float scale, float *dst, size_t n) {
    const int8_t *s = (const int8_t *)src;
    for (size_t i = 0; i < n; i++) dst[i] = (float)s[i] * scale;
}
