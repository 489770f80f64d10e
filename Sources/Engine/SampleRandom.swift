/// SplitMix64 (Steele, Lea & Flood 2014): one 64-bit add and a mix per draw, seedable, and
/// good enough statistically for drawing one uniform per token. A value type, so a request's
/// generator is never shared between requests or threads.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Per-step randomness for sampling.
///
/// Why derive instead of keeping a running generator per request: the random number of step `i`
/// then depends only on (seed, i). A request gives the same tokens whether it is batched with
/// others, preempted and recomputed, or restarted from a checkpoint of its output tokens; no
/// generator state has to be saved, and the `Sampler` can stay stateless.
public enum SampleRandom {
    /// The generator for step `step` (the number of tokens the request has generated so far).
    public static func generator(seed: UInt64, step: Int) -> SplitMix64 {
        SplitMix64(seed: seed ^ (UInt64(truncatingIfNeeded: step) &* 0x9E37_79B9_7F4A_7C15))
    }

    /// One uniform draw in [0, 1) with 53 random bits: the first output of the step's generator.
    public static func uniform(seed: UInt64, step: Int) -> Double {
        var g = generator(seed: seed, step: step)
        return Double(g.next() >> 11) * 0x1p-53
    }

    /// The seed a request samples with: its own `params.seed`, or a fresh random one. The engine
    /// calls this once at arrival and keeps the result, so preemption does not change the tokens.
    public static func requestSeed(for params: SamplingParams) -> UInt64 {
        if let seed = params.seed { return seed }
        var system = SystemRandomNumberGenerator()
        return system.next()
    }
}
