// The 8-row byte tile's format and layout (quant_tile_avx2.c packs and runs it; quant_vnni.c
// runs it with VNNI dots). Internal to the C target.
#ifndef SL_QUANT_TILE_H
#define SL_QUANT_TILE_H

#include "ShardlineKernels.h"

typedef struct {
    int kind;        // 0: 32-element blocks, float scale per block; 1: K super-blocks, int sub-scales
    int is_signed;   // quants kept as |q| + q
    int group;       // chunks whose maddubs sums still fit in int16 (|q| * 127 * 2 * group < 32768)
} tile_format;

static inline int tile_format_of(int type, tile_format *f) {
    switch (type) {
    case SL_QTYPE_Q4_0: case SL_QTYPE_Q5_0: *f = (tile_format){0, 0, 4}; return 1;
    case SL_QTYPE_Q8_0: *f = (tile_format){0, 1, 1}; return 1;
    case SL_QTYPE_Q4_K: case SL_QTYPE_Q5_K: *f = (tile_format){1, 0, 4}; return 1;
    case SL_QTYPE_Q6_K: *f = (tile_format){1, 1, 4}; return 1;
    default: return 0;
    }
}

// Tile sizes for n columns: quants (twice for signed), then per sub-block either float
// scale[8] + min[8] (kind 0) or int16 scaleA[16], scaleB[16], min[16] (kind 1, each row's
// value twice, as `madd` wants it), then per K super-block float d[8] and dmin[8].
typedef struct { size_t quants, signs, scales, supers, total; } tile_sizes;

static inline tile_sizes tile_sizes_of(const tile_format *f, size_t n) {
    tile_sizes s;
    size_t nsb = n / 32;
    s.quants = 0;
    s.signs = 8 * n;
    s.scales = s.signs + (f->is_signed ? 8 * n : 0);
    s.supers = s.scales + nsb * (f->kind == 0 ? 64 : 96);
    s.total = s.supers + (f->kind == 1 ? (n / 256) * 64 : 0);
    return s;
}

/// The tile's dots for m activation rows with AVX-512 VNNI (quant_vnni.c): y[c * ldy + 0..rows)
/// for every row c, bitwise the same as the AVX2 kernel's. Only where sl_quant_vnni_active().
void sl_tile_rows_vnni(const tile_format *f, const uint8_t *tile, size_t n, const uint8_t *x,
                       size_t xrow, size_t m, float *y, size_t ldy, size_t rows);

/// A repacked (x8) kernel for R = 1..4 activation rows (index R - 1) over groups [g0, g1):
/// y[r * ldy + 8g .. 8g + 7]. `aux` is the kernel's per-activation-row side data (rows of
/// `aux_row` bytes), or NULL.
typedef void (*sl_x8_rows_fn)(const uint8_t *w, size_t n, size_t g0, size_t g1, const uint8_t *x,
                              float *y, size_t ldy, const uint8_t *aux);
typedef struct {
    sl_x8_rows_fn rows[4];
    /// Side data for m activation rows into aux (m * aux_row bytes); NULL when none.
    void (*prepare)(const uint8_t *x, size_t m, size_t n, uint8_t *aux);
    size_t (*aux_row)(size_t n);
} sl_x8_kernel;

/// NAME##1 .. NAME##4: the sl_x8_rows_fn instances of a kernel body BODY(R), with target ATTR.
#define SL_X8_ROWS(ATTR, NAME, BODY)                                                                         \
    ATTR static void NAME##1(const uint8_t *w, size_t n, size_t g0, size_t g1, const uint8_t *x, float *y, \
                             size_t ldy, const uint8_t *aux) { BODY(1); }                                    \
    ATTR static void NAME##2(const uint8_t *w, size_t n, size_t g0, size_t g1, const uint8_t *x, float *y, \
                             size_t ldy, const uint8_t *aux) { BODY(2); }                                    \
    ATTR static void NAME##3(const uint8_t *w, size_t n, size_t g0, size_t g1, const uint8_t *x, float *y, \
                             size_t ldy, const uint8_t *aux) { BODY(3); }                                    \
    ATTR static void NAME##4(const uint8_t *w, size_t n, size_t g0, size_t g1, const uint8_t *x, float *y, \
                             size_t ldy, const uint8_t *aux) { BODY(4); }

/// Activation rows from which AVX2 runs repacked Q4_0/Q5_0 through the byte tile (quant_repack_x8.c).
#define SL_X8_TILE_MIN_ROWS 4

/// The VNNI x8 kernel for `type` and m activation rows (quant_vnni.c), or NULL.
const sl_x8_kernel *sl_x8_kernel_vnni(int type, size_t m);
/// 1 when the calling thread's quant kernels take the VNNI paths (AVX-512 VNNI + VL on this
/// CPU, SIMD active, not turned off by sl_quant_force_no_vnni or SHARDLINE_NO_VNNI).
int sl_quant_vnni_active(void);

/// Q4_K and Q6_K repacked 8 rows at a time (quant_repack_k.c), the same bytes as GGML's rows;
/// the x8 entry points route the types `sl_k_x8_type` accepts here. Repack returns the bytes
/// written, or 0 for another type.
static inline int sl_k_x8_type(int type) { return type == SL_QTYPE_Q4_K || type == SL_QTYPE_Q6_K; }
size_t sl_k_x8_repack(int type, const void *src, size_t rows, size_t n, void *dst);
void sl_k_x8_dequantize_row(int type, const void *w, size_t n, size_t r, float *y);
int sl_k_x8_matmul(int type, const void *w, size_t n, size_t r0, size_t r1, const void *x, size_t m, float *y, size_t ldy);

#endif
