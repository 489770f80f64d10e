/// How rotary frequencies are rescaled for long context (HF `rope_scaling` / `rope_parameters`).
public enum RopeScaling: Sendable, Equatable {
    case none
    /// Position interpolation: positions divided by `factor`.
    case linear(factor: Double)
    /// Llama 3.x: long wavelengths divided by `factor`, short kept, a smooth ramp between.
    case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Int)
}

/// Attention layer kinds for models that interleave local and global attention.
public enum AttentionKind: String, Sendable, Equatable {
    case full = "full_attention"
    case sliding = "sliding_attention"
}
