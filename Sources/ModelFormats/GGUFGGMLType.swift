/// ggml tensor element types, with ggml's numeric ids as stored in GGUF tensor infos.
///
/// Every type is stored as blocks: `blockSize` elements packed into `bytesPerBlock` bytes
/// (1 element per block for the plain types). A row (ne[0] elements) must hold a whole number
/// of blocks. Ids 4, 5 (removed Q4_2/Q4_3), 31–33 and 36–38 (removed repacked layouts) are
/// deliberately absent: a file that uses them is rejected as "unknown ggml type".
/// Knowing a type here means the file can be opened and its bytes located; which types the
/// compute kernels can actually dequantize is a separate question (see `isQuantized`).
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q5_0 = 6
    case q5_1 = 7
    case q8_0 = 8
    case q8_1 = 9
    case q2_K = 10
    case q3_K = 11
    case q4_K = 12
    case q5_K = 13
    case q6_K = 14
    case q8_K = 15
    case iq2_XXS = 16
    case iq2_XS = 17
    case iq3_XXS = 18
    case iq1_S = 19
    case iq4_NL = 20
    case iq3_S = 21
    case iq2_S = 22
    case iq4_XS = 23
    case i8 = 24
    case i16 = 25
    case i32 = 26
    case i64 = 27
    case f64 = 28
    case iq1_M = 29
    case bf16 = 30
    case tq1_0 = 34
    case tq2_0 = 35
    case mxfp4 = 39
    case nvfp4 = 40
    case q1_0 = 41

    /// ggml's name for the type, e.g. "Q4_K", as gguf tools print it.
    public var name: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q5_0: return "Q5_0"
        case .q5_1: return "Q5_1"
        case .q8_0: return "Q8_0"
        case .q8_1: return "Q8_1"
        case .q2_K: return "Q2_K"
        case .q3_K: return "Q3_K"
        case .q4_K: return "Q4_K"
        case .q5_K: return "Q5_K"
        case .q6_K: return "Q6_K"
        case .q8_K: return "Q8_K"
        case .iq2_XXS: return "IQ2_XXS"
        case .iq2_XS: return "IQ2_XS"
        case .iq3_XXS: return "IQ3_XXS"
        case .iq1_S: return "IQ1_S"
        case .iq4_NL: return "IQ4_NL"
        case .iq3_S: return "IQ3_S"
        case .iq2_S: return "IQ2_S"
        case .iq4_XS: return "IQ4_XS"
        case .i8: return "I8"
        case .i16: return "I16"
        case .i32: return "I32"
        case .i64: return "I64"
        case .f64: return "F64"
        case .iq1_M: return "IQ1_M"
        case .bf16: return "BF16"
        case .tq1_0: return "TQ1_0"
        case .tq2_0: return "TQ2_0"
        case .mxfp4: return "MXFP4"
        case .nvfp4: return "NVFP4"
        case .q1_0: return "Q1_0"
        }
    }

    public var description: String { name }

    /// Elements per block (1 for the plain float/int types, 32 for Q4_0…Q8_1, 256 for K-quants).
    public var blockSize: Int { layout.blockSize }

    /// Bytes one block occupies on disk (ggml's `type_size`).
    public var bytesPerBlock: Int { layout.bytes }

    /// True for block-quantized types (anything that is not a plain float or integer).
    public var isQuantized: Bool {
        switch self {
        case .f32, .f16, .bf16, .f64, .i8, .i16, .i32, .i64: return false
        default: return true
        }
    }

    /// Bytes one row of `elements` elements occupies, or nil when `elements` is negative, not a
    /// multiple of `blockSize`, or the size overflows.
    public func rowBytes(elements: Int) -> Int? {
        guard elements >= 0, elements % blockSize == 0 else { return nil }
        let (bytes, overflow) = (elements / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
        return overflow ? nil : bytes
    }

    /// The safetensors-style dtype for the plain types, nil for quantized ones.
    public var dtype: DType? {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .f64: return .f64
        case .i8: return .i8
        case .i16: return .i16
        case .i32: return .i32
        case .i64: return .i64
        default: return nil
        }
    }

    // Sizes are ggml's `type_traits` (ggml-common.h block structs), QK_K = 256.
    private var layout: (blockSize: Int, bytes: Int) {
        switch self {
        case .f32: return (1, 4)
        case .f16: return (1, 2)
        case .q4_0: return (32, 18)       // f16 d + 16 nibble bytes
        case .q4_1: return (32, 20)       // f16 d, m + 16
        case .q5_0: return (32, 22)       // f16 d + 4 qh + 16
        case .q5_1: return (32, 24)       // f16 d, m + 4 qh + 16
        case .q8_0: return (32, 34)       // f16 d + 32
        case .q8_1: return (32, 36)       // f16 d, s + 32
        case .q2_K: return (256, 84)
        case .q3_K: return (256, 110)
        case .q4_K: return (256, 144)     // f16 d, dmin + 12 scales + 128
        case .q5_K: return (256, 176)
        case .q6_K: return (256, 210)
        case .q8_K: return (256, 292)     // f32 d + 256 + 16 × i16 bsums
        case .iq2_XXS: return (256, 66)
        case .iq2_XS: return (256, 74)
        case .iq3_XXS: return (256, 98)
        case .iq1_S: return (256, 50)
        case .iq4_NL: return (32, 18)
        case .iq3_S: return (256, 110)
        case .iq2_S: return (256, 82)
        case .iq4_XS: return (256, 136)
        case .i8: return (1, 1)
        case .i16: return (1, 2)
        case .i32: return (1, 4)
        case .i64: return (1, 8)
        case .f64: return (1, 8)
        case .iq1_M: return (256, 56)
        case .bf16: return (1, 2)
        case .tq1_0: return (256, 54)
        case .tq2_0: return (256, 66)
        case .mxfp4: return (32, 17)
        case .nvfp4: return (64, 36)
        case .q1_0: return (128, 18)
        }
    }
}
