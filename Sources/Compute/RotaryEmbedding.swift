import ShardlineKernels

/// Rotary position embedding in the rotate-half layout HF uses. Frequencies come from the model
/// (base, scaling); the angle is computed in f32 as transformers does, so logits match it.
public struct RotaryEmbedding: Sendable {
    public let inverseFrequencies: [Float]

    public init(inverseFrequencies: [Float]) {
        self.inverseFrequencies = inverseFrequencies
    }

    public var rotaryDim: Int { inverseFrequencies.count * 2 }

    /// Rotates each row of `x` ([tokens, heads·headDim]) in place by its token's position.
    public func apply(_ x: Tensor, headDim: Int, positions: [Int]) {
        precondition(positions.count == x.rowCount, "RoPE: \(positions.count) positions for \(x.rowCount) rows")
        precondition(headDim == rotaryDim, "RoPE: head_dim \(headDim) but \(rotaryDim) rotary dims")
        let half = inverseFrequencies.count
        let heads = x.rowLength / headDim
        var cos = [Float](repeating: 0, count: half), sin = [Float](repeating: 0, count: half)
        for (r, position) in positions.enumerated() {
            let p = Float(position)
            for i in 0..<half {
                let angle = p * inverseFrequencies[i]
                cos[i] = _cos(angle)
                sin[i] = _sin(angle)
            }
            sl_rope_f32(x.row(r), heads, headDim, cos, sin)
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _cos(_ x: Float) -> Float { cosf(x) }
@inline(__always) private func _sin(_ x: Float) -> Float { sinf(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) private func _cos(_ x: Float) -> Float { cosf(x) }
@inline(__always) private func _sin(_ x: Float) -> Float { sinf(x) }
#endif
