import Foundation

/// How a dense (safetensors) model holds its projection weights after load: `--dtype` picks
/// float32/float16/bfloat16 storage, `--quantization` int8 or fp8. Activations and the KV cache
/// stay f32 on this CPU (AVX2 has no half-precision arithmetic); the kernels widen as they read.
public enum WeightFormat: String, Sendable, Codable, CaseIterable {
    case float32, float16, bfloat16
    /// Symmetric 8-bit integers with one f32 scale per output channel.
    case int8
    /// FP8 E4M3 (OCP "fn": max 448, no infinities) with one f32 scale per output channel.
    case fp8

    /// The projection y = x·Wᵀ + b in this format, quantized from f32 `weight` [out, in].
    public func linear(weight: Tensor, bias: Tensor? = nil) -> any LinearLayer {
        let rows = weight.shape[0], cols = weight.shape[1]
        switch self {
        case .float32:
            return Linear(weight: weight, bias: bias)
        case .float16, .bfloat16:
            var bytes = [UInt8](repeating: 0, count: rows * cols * 2)
            bytes.withUnsafeMutableBytes { out in
                let dst = out.bindMemory(to: UInt16.self)
                for i in 0..<(rows * cols) {
                    let v = weight.data[i]
                    dst[i] = (self == .float16 ? Float16(v).bitPattern : Self.bfloat16Bits(v)).littleEndian
                }
            }
            return QuantizedLinear(weight: QuantizedMatrix(type: self == .float16 ? .f16 : .bf16, rows: rows, cols: cols, copying: bytes), bias: bias)
        case .int8:
            return ChannelQuantizedLinear(weight: weight, bias: bias, code: .int8)
        case .fp8:
            return ChannelQuantizedLinear(weight: weight, bias: bias, code: .e4m3)
        }
    }

    /// Round-to-nearest-even bf16.
    static func bfloat16Bits(_ v: Float) -> UInt16 {
        let bits = v.bitPattern
        if v.isNaN { return 0x7FC0 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }
}
