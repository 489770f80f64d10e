import ShardlineKernels

/// Root-mean-square layer norm over the last dimension.
public struct RMSNorm: Sendable {
    public let weight: Tensor
    public let eps: Float
    /// Gemma scales by (1 + w) instead of w.
    public let unitOffset: Bool

    public init(weight: Tensor, eps: Float, unitOffset: Bool = false) {
        self.weight = weight
        self.eps = eps
        self.unitOffset = unitOffset
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let out = Tensor(unfilled: x.shape)  // every row is written
        forward(x, into: out)
        return out
    }

    /// Works in place when `out` is `x`.
    public func forward(_ x: Tensor, into out: Tensor) {
        let n = x.rowLength
        precondition(weight.count == n, "RMSNorm: weight \(weight.count) for rows of \(n)")
        for r in 0..<x.rowCount {
            sl_rmsnorm_f32(x.row(r), weight.data, out.row(r), n, eps, unitOffset ? 1 : 0)
        }
    }
}
