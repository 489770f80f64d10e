import Foundation

/// Summary statistics of one latency, in milliseconds.
public struct LatencyStats: Sendable, Equatable {
    public var mean = 0.0
    public var median = 0.0
    public var std = 0.0
    public var p90 = 0.0
    public var p99 = 0.0
    public var min = 0.0
    public var max = 0.0
    public var count = 0

    public init() {}

    /// From values in seconds; all zeros for an empty list (as vLLM reports).
    public init(seconds values: [Double]) {
        guard !values.isEmpty else { return }
        let ms = values.map { $0 * 1000 }.sorted()
        count = ms.count
        mean = ms.reduce(0, +) / Double(ms.count)
        std = (ms.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(ms.count)).squareRoot()
        median = Self.percentile(ms, 50)
        p90 = Self.percentile(ms, 90)
        p99 = Self.percentile(ms, 99)
        min = ms.first!
        max = ms.last!
    }

    /// The p-th percentile of sorted values, interpolating linearly between ranks (numpy's default).
    public static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = p / 100 * Double(sorted.count - 1)
        let lo = Int(rank.rounded(.down)), hi = Swift.min(lo + 1, sorted.count - 1)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - Double(lo))
    }
}

/// Service-level objectives for goodput: a request is good when it meets every one given.
public struct GoodputSLO: Sendable, Equatable {
    /// Limits in milliseconds, by metric: `ttft`, `tpot`, `e2el`.
    public var limits: [String: Double] = [:]

    public init(limits: [String: Double] = [:]) { self.limits = limits }

    public static let metrics = ["ttft", "tpot", "e2el"]

    /// `["ttft:200", "tpot:50"]` as `--goodput` takes them.
    public init(parsing specs: [String]) throws {
        for spec in specs {
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, Self.metrics.contains(parts[0].lowercased()), let ms = Double(parts[1]), ms > 0 else {
                throw BenchError("--goodput '\(spec)' is not METRIC:MS with METRIC one of ttft, tpot, e2el and MS a positive number of milliseconds")
            }
            limits[parts[0].lowercased()] = ms
        }
    }

    public func isGood(_ r: RequestResult) -> Bool {
        guard r.success else { return false }
        if let l = limits["ttft"], r.ttft * 1000 > l { return false }
        if let l = limits["tpot"], (r.tpot ?? 0) * 1000 > l { return false }
        if let l = limits["e2el"], r.latency * 1000 > l { return false }
        return true
    }
}

/// Everything one benchmark run measured.
public struct BenchMetrics: Sendable {
    public var completed = 0
    public var failed = 0
    /// Failure reasons and how many requests failed with each, most frequent first.
    public var failures: [(reason: String, count: Int)] = []
    public var duration = 0.0
    public var totalInputTokens = 0
    public var totalOutputTokens = 0
    public var requestThroughput = 0.0
    public var outputThroughput = 0.0
    public var totalTokenThroughput = 0.0
    /// Good requests per second, when SLOs were given.
    public var requestGoodput: Double?
    public var goodRequests: Int?
    public var ttft = LatencyStats()
    public var tpot = LatencyStats()
    public var itl = LatencyStats()
    public var e2el = LatencyStats()
    /// The most requests that were in flight at once.
    public var peakConcurrency = 0

    public init() {}

    public init(results: [RequestResult], duration: Double, slo: GoodputSLO? = nil, peakConcurrency: Int = 0) {
        let ok = results.filter(\.success)
        completed = ok.count
        failed = results.count - ok.count
        var reasons: [String: Int] = [:]
        for r in results where !r.success { reasons[r.error ?? "unknown error", default: 0] += 1 }
        failures = reasons.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
        self.duration = duration
        totalInputTokens = ok.reduce(0) { $0 + ($1.serverPromptTokens ?? $1.promptTokens) }
        totalOutputTokens = ok.reduce(0) { $0 + $1.outputTokens }
        if duration > 0 {
            requestThroughput = Double(completed) / duration
            outputThroughput = Double(totalOutputTokens) / duration
            totalTokenThroughput = Double(totalInputTokens + totalOutputTokens) / duration
        }
        ttft = LatencyStats(seconds: ok.map(\.ttft))
        tpot = LatencyStats(seconds: ok.compactMap(\.tpot))
        itl = LatencyStats(seconds: ok.flatMap(\.itl))
        e2el = LatencyStats(seconds: ok.map(\.latency))
        if let slo, !slo.limits.isEmpty {
            let good = ok.filter { slo.isGood($0) }.count
            goodRequests = good
            requestGoodput = duration > 0 ? Double(good) / duration : 0
        }
        self.peakConcurrency = peakConcurrency
    }
}
