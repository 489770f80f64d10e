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

    /// `gateUp` is [rows, 2·n]; returns [rows, n].
    public func callAsFunction(_ gateUp: Tensor) -> Tensor {
        let n = gateUp.rowLength / 2
        let out = Tensor(zeros: [gateUp.rowCount, n])
        for r in 0..<gateUp.rowCount {
            switch self {
            case .silu: sl_silu_mul_f32(gateUp.row(r), out.row(r), n)
            case .geluTanh: sl_gelu_tanh_mul_f32(gateUp.row(r), out.row(r), n)
            }
        }
        return out
    }
}

/// In-place softmax of each row.
public func softmaxRows(_ x: Tensor) {
    for r in 0..<x.rowCount { sl_softmax_f32(x.row(r), x.rowLength) }
}
