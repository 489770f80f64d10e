import Foundation
import Engine

/// When requests arrive.
public enum ArrivalPattern: Sendable, Equatable {
    /// Exponential gaps at `rate` requests/s (drawn from the workload's seed).
    case poisson(rate: Double)
    /// One request every 1/rate seconds.
    case fixedRate(Double)
    /// Everything queued at t = 0 (offline batch).
    case allAtOnce
    /// `concurrency` requests in the system at all times: a new one arrives as one finishes,
    /// like the benchmark client's --max-concurrency.
    case closedLoop(concurrency: Int)
}

/// Token counts of prompts or outputs.
public enum LengthDistribution: Sendable, Equatable {
    case fixed(Int)
    /// Uniform over min...max, inclusive.
    case uniform(min: Int, max: Int)

    func draw(_ rng: inout SplitMix64) -> Int {
        switch self {
        case .fixed(let n): return n
        case .uniform(let lo, let hi): return lo + Int(rng.next() % UInt64(max(1, hi - lo + 1)))
        }
    }

    public var maximum: Int {
        switch self {
        case .fixed(let n): n
        case .uniform(_, let hi): hi
        }
    }
}

/// A synthetic load: how many requests, when they arrive, how long they are. Deterministic
/// for a seed, so a capacity search compares rates on the same requests.
public struct Workload: Sendable, Equatable {
    public var numRequests: Int
    public var arrivals: ArrivalPattern
    public var promptLength: LengthDistribution
    public var outputLength: LengthDistribution
    public var seed: UInt64
    /// Prompts that open with one of `count` shared prefixes of `length` tokens (long system
    /// prompts, agents' instructions) before their own `promptLength` tokens. Each request draws
    /// its prefix at random, so no routing lines up with the prefixes by accident.
    public var sharedPrefix: SharedPrefix?

    public struct SharedPrefix: Sendable, Equatable {
        public var length: Int
        public var count: Int
        public init(length: Int, count: Int) {
            self.length = length
            self.count = count
        }
    }

    public init(numRequests: Int, arrivals: ArrivalPattern, promptLength: LengthDistribution,
                outputLength: LengthDistribution, seed: UInt64 = 0, sharedPrefix: SharedPrefix? = nil) {
        self.numRequests = numRequests
        self.arrivals = arrivals
        self.promptLength = promptLength
        self.outputLength = outputLength
        self.seed = seed
        self.sharedPrefix = sharedPrefix
    }

    /// Arrival times of open-loop patterns; for a closed loop, the first `concurrency` at t = 0
    /// (the simulator releases the rest as requests finish).
    public func arrivalTimes() -> [Double] {
        switch arrivals {
        case .allAtOnce, .closedLoop:
            return Array(repeating: 0, count: numRequests)
        case .fixedRate(let rate):
            return (0..<numRequests).map { Double($0) / rate }
        case .poisson(let rate):
            // Independent stream per purpose, so changing the lengths never moves the arrivals.
            var rng = SplitMix64(seed: seed ^ 0xA5A5_0001)
            var t = 0.0
            return (0..<numRequests).map { _ in
                let u = Double(rng.next() >> 11) * 0x1p-53
                defer { t += -log1p(-u) / rate }
                return t
            }
        }
    }

    /// (prompt, output) token counts per request; a prompt's count includes its shared prefix.
    public func lengths() -> [(prompt: Int, output: Int)] {
        var rng = SplitMix64(seed: seed ^ 0xA5A5_0002)
        let prefix = sharedPrefix?.length ?? 0
        return (0..<numRequests).map { _ in (prefix + max(1, promptLength.draw(&rng)), max(1, outputLength.draw(&rng))) }
    }

    /// Which shared prefix a request opens with (nil without shared prefixes).
    public func prefixIndex(request: Int) -> Int? {
        guard let sharedPrefix, sharedPrefix.count > 0 else { return nil }
        var rng = SplitMix64(seed: seed ^ 0xA5A5_0004 ^ (UInt64(request) &* 0x9E37_79B9_7F4A_7C15))
        return Int(rng.next() % UInt64(sharedPrefix.count))
    }

    /// Random prompt tokens, distinct per request (so the prefix cache finds nothing, as with
    /// the benchmark client's random dataset) after the request's shared prefix, if any. Ids 0
    /// and 1 are left out: often BOS/EOS.
    func promptTokens(request: Int, count: Int, vocabSize: Int) -> [Int] {
        let span = UInt64(max(1, vocabSize - 2))
        var tokens: [Int] = []
        tokens.reserveCapacity(count)
        if let p = prefixIndex(request: request), let length = sharedPrefix?.length {
            var rng = SplitMix64(seed: seed ^ 0xA5A5_0005 ^ (UInt64(p) &* 0x9E37_79B9_7F4A_7C15))
            for _ in 0..<min(length, count) { tokens.append(2 + Int(rng.next() % span)) }
        }
        var rng = SplitMix64(seed: seed ^ 0xA5A5_0003 ^ (UInt64(request) &* 0x9E37_79B9_7F4A_7C15))
        while tokens.count < count { tokens.append(2 + Int(rng.next() % span)) }
        return tokens
    }
}
