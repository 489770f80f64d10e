// Quantized weights in GGML's block formats, exactly as GGUF files store them, and the kernels
// that multiply them with activations. No allocation, no threads: callers own memory and split
// weight rows over their own threads.
//
// The fast path follows llama.cpp's method: activations are quantized to 8 bits once per matmul
// (`sl_quantize_act_row`), and each weight block is dotted with the activation block in integer
// SIMD (`maddubs`/`madd`), scaled once per block. Float weight types (F32/F16/BF16) keep f32
// activations. AVX2+FMA+F16C paths are chosen at run time; the portable paths give the same
// results up to float rounding (they compute the same integer block dots).
#ifndef SHARDLINE_QUANT_H
#define SHARDLINE_QUANT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// GGML type ids (the numbers GGUF stores).
enum {
    SL_QTYPE_F32 = 0, SL_QTYPE_F16 = 1, SL_QTYPE_Q4_0 = 2, SL_QTYPE_Q5_0 = 6, SL_QTYPE_Q8_0 = 8,
    SL_QTYPE_Q4_K = 12, SL_QTYPE_Q5_K = 13, SL_QTYPE_Q6_K = 14, SL_QTYPE_BF16 = 30,
};

// ---- Weight blocks (GGML layouts; f16 fields are IEEE half bit patterns) ----
/// 32 values: (q - 8) * d; qs[j] low nibble is element j, high nibble element j + 16.
typedef struct { uint16_t d; uint8_t qs[16]; } sl_block_q4_0;
/// 32 values: (q - 16) * d, q = nibble | bit << 4; bit j of little-endian qh is element j's 5th bit.
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } sl_block_q5_0;
/// 32 values: q * d.
typedef struct { uint16_t d; int8_t qs[32]; } sl_block_q8_0;
/// 256 values in 8 sub-blocks of 32: d * sc[j] * q - dmin * m[j], 6-bit sc/m packed in 12 bytes.
/// Each 32 bytes of qs hold sub-block 2i (low nibbles) and 2i + 1 (high nibbles).
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; } sl_block_q4_K;
/// As Q4_K with a 5th bit: bit j of qh[l] is the high bit of element l of sub-block j.
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } sl_block_q5_K;
/// 256 values in 16 groups of 16: d * scales[g] * (q - 32), q 6-bit from ql (4) and qh (2).
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } sl_block_q6_K;

// ---- Quantized activations (Shardline's own layouts, produced by sl_quantize_act_row) ----
/// 32 values q * d, with s = d * Σq (for weight types whose quants carry an offset).
typedef struct { float d; float s; int8_t qs[32]; } sl_act_q8_32;
/// 256 values q * d, bsums[g] = Σ of q over elements 16g..16g+15.
typedef struct { float d; int16_t bsums[16]; int8_t qs[256]; } sl_act_q8_K;

/// Elements per block (1 for F32/F16/BF16); 0 for an unsupported type.
size_t sl_qtype_block_size(int type);
/// Bytes per block; 0 for an unsupported type.
size_t sl_qtype_block_bytes(int type);
/// Bytes of one row of n elements; 0 if the type is unsupported or n is not a multiple of its block.
size_t sl_qtype_row_bytes(int type, size_t n);

/// Reference dequantization of one row of n elements (portable code, the tests' yardstick).
void sl_dequantize_row(int type, const void *src, float *dst, size_t n);

/// FP8 E4M3 codes (OCP "fn": bias 7, no infinities, 0x7F/0xFF NaN) widened to f32 and scaled.
void sl_fp8_e4m3_to_f32(const uint8_t *src, float scale, float *dst, size_t n);
/// Signed 8-bit codes widened to f32 and scaled.
void sl_int8_to_f32(const uint8_t *src, float scale, float *dst, size_t n);

/// Bytes of one activation row of n elements, quantized for weights of `weight_type`:
/// sl_act_q8_32 blocks for Q4_0/Q5_0/Q8_0, sl_act_q8_K for Q4_K/Q5_K/Q6_K, plain f32 otherwise.
size_t sl_quant_act_row_bytes(int weight_type, size_t n);
/// Which activation format weights of `weight_type` take: 0 f32, 1 sl_act_q8_32, 2 sl_act_q8_K.
/// Weight types of one kind can share one quantized activation row.
int sl_quant_act_kind(int weight_type);
/// Quantizes (or copies, for float weight types) one activation row for weights of `weight_type`.
/// Scale d = max|x| / 127 per block, q = round-to-nearest-even(x / d).
void sl_quantize_act_row(int weight_type, const float *x, void *dst, size_t n);
/// The values a quantized activation row stands for (for tests).
void sl_dequantize_act_row(int weight_type, const void *src, float *dst, size_t n);

/// y[m * ldy + r] = dot(W[r], X[m]) for weight rows r in [r0, r1) and activation rows m in [0, M).
/// W: the whole weight matrix, rows of `sl_qtype_row_bytes(type, n)` bytes (a GGUF tensor's data).
/// X: M activation rows of `sl_quant_act_row_bytes(type, n)` bytes each, from sl_quantize_act_row.
/// Up to 4 activation rows share each pass over a weight row, and weight rows are taken in
/// cache-sized groups, so M > 1 reuses weight blocks while they are in cache.
void sl_quant_matmul(int type, const void *w, size_t n, size_t r0, size_t r1,
                     const void *x, size_t m, float *y, size_t ldy);
/// One dot product: weight row × quantized activation row.
float sl_quant_dot(int type, const void *w_row, const void *x_act, size_t n);

/// Forces the portable (scalar) kernels on the calling thread while `on` is nonzero (for tests).
/// Thread-local, so parallel tests and worker threads are not affected.
void sl_quant_force_portable(int on);
/// 1 when the calling thread's quant kernels take the AVX2 path.
int sl_quant_simd_active(void);
/// 1 when this CPU has AVX-512 VNNI + VL and SHARDLINE_NO_VNNI is unset: the repacked and tile
/// kernels then take their VNNI forms (quant_vnni.c), bitwise the same results.
int sl_quant_vnni_available(void);
/// Keeps the calling thread on the AVX2 kernels while `on` is nonzero (for tests).
void sl_quant_force_no_vnni(int on);

/// IEEE half -> float (portable).
float sl_f16_to_f32(uint16_t h);

/// Q4_0/Q5_0/Q8_0 (quant_repack_x8.c), Q4_K and Q6_K (quant_repack_k.c) rows repacked 8 at a time
/// for decode, in the same bytes as the GGML rows. Returns the bytes written, or 0 (nothing
/// usable) for another type, rows not a multiple of 8, or a Q8_0 quant of -128.
size_t sl_quant_repack_x8(int type, const void *src, size_t rows, size_t n, void *dst);
/// Bytes of one 32-column block of 8 repacked rows; 0 for a type with no repacked form.
size_t sl_quant_x8_group_block_bytes(int type);
/// Row r of a repacked matrix as f32.
void sl_quant_x8_dequantize_row(int type, const void *w, size_t n, size_t r, float *y);
/// As sl_quant_matmul for a repacked matrix (x: activation rows for `type`); r0 and r1 must be
/// multiples of 8 (else it returns 0 and does nothing). AVX2 or portable, like sl_quant_matmul.
int sl_quant_x8_matmul(int type, const void *w, size_t n, size_t r0, size_t r1, const void *x, size_t m,
                       float *y, size_t ldy);

// Internal: the 8-row tile kernels (quant_tile_avx2.c) that sl_quant_matmul uses for 4 or more
// activation rows on AVX2. 1 when `type` has one; sl_quant_matmul_tiled returns 0 when it did nothing.
int sl_quant_tile_supported(int type);
int sl_quant_matmul_tiled(int type, const void *w, size_t n, size_t r0, size_t r1,
                          const void *x, size_t m, float *y, size_t ldy);

// Internal: the tile kernels over repacked rows (r0, r1 multiples of 8).
int sl_quant_x8_matmul_tiled(int type, const void *w, size_t n, size_t r0, size_t r1,
                             const void *x, size_t m, float *y, size_t ldy);

// Internal: the AVX2 row kernel table (quant_avx2.c). Kernel: out[k * ostride] = dot(w, x + k * xstride), k < nr <= 4.
typedef void (*sl_quant_rows_fn)(const void *w, size_t n, const void *x, size_t xstride,
                                 size_t nr, float *out, size_t ostride);
sl_quant_rows_fn sl_quant_rows_avx2(int type);
// Internal: activation quantization for act kind 1 or 2 (quantize_act_avx2.c); 0 for another kind.
int sl_quantize_act_row_avx2(int kind, const float *x, void *dst, size_t n);

#ifdef __cplusplus
}
#endif
#endif
