import Foundation

/// A small seeded generator (SplitMix64): the same seed gives the same dataset and the same
/// arrival times on every machine, which `SystemRandomNumberGenerator` cannot promise.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in (0, 1]: safe to take the logarithm of.
    mutating func positiveUnit() -> Double { 1 - unit() }

    public mutating func normal() -> Double {
        sqrt(-2 * log(positiveUnit())) * cos(2 * Double.pi * unit())
    }

    /// Gamma(shape, scale) by Marsaglia and Tsang; shape < 1 through the usual U^(1/shape) boost.
    public mutating func gamma(shape: Double, scale: Double) -> Double {
        precondition(shape > 0 && scale > 0)
        if shape < 1 {
            return gamma(shape: shape + 1, scale: scale) * pow(positiveUnit(), 1 / shape)
        }
        let d = shape - 1.0 / 3.0, c = 1 / sqrt(9 * d)
        while true {
            var x = 0.0, v = 0.0
            repeat {
                x = normal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = positiveUnit()
            if log(u) < 0.5 * x * x + d - d * v + d * log(v) { return d * v * scale }
        }
    }

    /// A generator for item `index` of a stream seeded with `seed`: independent of the order in
    /// which items are built (datasets are built concurrently).
    public static func forItem(_ index: Int, seed: UInt64) -> SeededRandom {
        var mixer = SeededRandom(seed: seed ^ (UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03))
        return SeededRandom(seed: mixer.next())
    }
}

/// When each request is sent, as offsets in seconds from the start of the run.
public enum ArrivalSchedule {
    /// `rate` requests per second on average; gaps are Gamma(burstiness, 1/(rate·burstiness)), so
    /// burstiness 1 is a Poisson process, below 1 burstier, above 1 more even. An infinite rate
    /// sends everything at once.
    public static func offsets(count: Int, rate: Double, burstiness: Double, seed: UInt64) -> [Double] {
        guard count > 0 else { return [] }
        guard rate.isFinite else { return [Double](repeating: 0, count: count) }
        var rng = SeededRandom(seed: seed &+ 0x5851_F42D_4C95_7F2D)
        var t = 0.0
        var out: [Double] = [0]
        for _ in 1..<count {
            t += rng.gamma(shape: burstiness, scale: 1 / (rate * burstiness))
            out.append(t)
        }
        return out
    }
}
