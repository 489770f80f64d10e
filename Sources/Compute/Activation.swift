import ShardlineKernels

/// Gated MLP activations over a fused [gate | up] projection: out = act(gate) * up.
public enum GatedActivation: String, Sendable {
    case silu
    case geluTanh

    public init?(huggingFaceName: String) {
        switch huggingFaceName {
        case "silu", "swish": self = .silu
        case "gelu_pytorch_tanh", "gelu_tanh": self = .geluTanh
        default: return nil
        }
    }

    /// `gateUp` is [rows, 2·n] (a fused projection); returns [rows, n].
    public func callAsFunction(_ gateUp: Tensor) -> Tensor {
        let n = gateUp.rowLength / 2
        let out = Tensor(unfilled: [gateUp.rowCount, n])  // every element is written
        for r in 0..<gateUp.rowCount { apply(gateUp.row(r), gateUp.row(r) + n, out.row(r), n) }
        return out
    }

    /// Separate gate and up projections, each [rows, n]; returns [rows, n].
    public func callAsFunction(gate: Tensor, up: Tensor) -> Tensor {
        precondition(gate.shape == up.shape, "gated activation: gate \(gate.shape) vs up \(up.shape)")
        let out = Tensor(zeros: gate.shape)
        for r in 0..<gate.rowCount { apply(gate.row(r), up.row(r), out.row(r), gate.rowLength) }
        return out
    }

    private func apply(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        case .silu: sl_silu_mul_f32(gate, up, out, n)
        case .geluTanh: sl_gelu_tanh_mul_f32(gate, up, out, n)
        }
    }
}

/// In-place softmax of each row.
public func softmaxRows(_ x: Tensor) {
    for r in 0..<x.rowCount { sl_softmax_f32(x.row(r), x.rowLength) }
}
