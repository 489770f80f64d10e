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
        angles(positions).apply(x, headDim: headDim)
    }

    /// cos and sin of every position's angles, computed once per step and shared by every
    /// layer that uses this embedding (each layer's q and k recomputed them before).
    public func angles(_ positions: [Int]) -> RotaryAngles {
        let half = inverseFrequencies.count
        var cos = [Float](repeating: 0, count: positions.count * half), sin = cos
        for (r, position) in positions.enumerated() {
            let p = Float(position)
            for i in 0..<half {
                let angle = p * inverseFrequencies[i]
                cos[r * half + i] = _cos(angle)
                sin[r * half + i] = _sin(angle)
            }
        }
        return RotaryAngles(positions: positions.count, half: half, cos: cos, sin: sin)
    }
}

/// One step's rotary angles: row r's cos/sin at [r·half, (r+1)·half).
public struct RotaryAngles: Sendable {
    public let positions: Int
    public let half: Int
    let cos: [Float], sin: [Float]

    /// Rotates each row of `x` ([positions, heads·headDim]) in place.
    public func apply(_ x: Tensor, headDim: Int) {
        precondition(positions == x.rowCount, "RoPE: \(positions) positions for \(x.rowCount) rows")
        precondition(headDim == 2 * half, "RoPE: head_dim \(headDim) but \(2 * half) rotary dims")
        let heads = x.rowLength / headDim
        cos.withUnsafeBufferPointer { c in
            sin.withUnsafeBufferPointer { s in
                for r in 0..<positions { sl_rope_f32(x.row(r), heads, headDim, c.baseAddress! + r * half, s.baseAddress! + r * half) }
            }
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
