/// Mean and percentiles of one latency (seconds), as the benchmark client reports them.
public struct LatencySummary: Sendable, Codable, Equatable {
    public var count: Int
    public var mean: Double
    public var p50: Double
    public var p90: Double
    public var p99: Double

    public init(_ samples: [Double]) {
        let sorted = samples.sorted()
        count = sorted.count
        mean = sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count)
        p50 = Self.percentile(sorted, 50)
        p90 = Self.percentile(sorted, 90)
        p99 = Self.percentile(sorted, 99)
    }

    /// Linear interpolation between closest ranks (numpy's default), so the figures match the
    /// benchmark client's.
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let position = q / 100 * Double(sorted.count - 1)
        let lower = Int(position)
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }
}

/// What one simulation measured.
public struct SimulationReport: Sendable, Codable, Equatable {
    public var completedRequests: Int
    public var promptTokens: Int
    public var outputTokens: Int
    /// First arrival to last completion, simulated seconds.
    public var durationSeconds: Double
    public var requestThroughput: Double
    public var outputTokenThroughput: Double
    public var totalTokenThroughput: Double
    public var ttft: LatencySummary
    public var tpot: LatencySummary
    public var itl: LatencySummary
    public var e2e: LatencySummary
    /// Per pipeline stage (replica by replica under data parallelism): busy seconds over the duration.
    public var stageBusyFraction: [Double]
    public var numPreemptions: Int
    public var numBatches: Int
    /// One slice per batch per stage, in simulated seconds; only when the simulator records a trace.
    public var stageSlices: [StageSlice]? = nil
    /// Prompt tokens found in the prefix cache over prompt tokens looked up (vLLM's hit rate).
    public var prefixCacheHitRate: Double? = nil
}

/// A batch's time on one pipeline stage (simulated seconds), for Chrome traces.
public struct StageSlice: Sendable, Codable, Equatable {
    public var stage: Int
    public var batch: Int
    public var tokens: Int
    public var decodeOnly: Bool
    public var start: Double
    public var end: Double
}
