/// A timestamped moment in a request's life, for latency metrics and traces.
public struct EngineEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case queued, scheduled, firstToken, preempted, finished
    }

    public var requestId: RequestID
    public var kind: Kind
    /// Seconds on the engine's clock (monotonic; simulated under the planner).
    public var time: Double
}

/// One request's progress after a step: new tokens and, at the end, why it finished.
public struct EngineCoreOutput: Sendable {
    public var requestId: RequestID
    public var newTokenIds: [Int]
    public var newTokens: [SampledToken]
    public var finishReason: FinishReason?
    public var numCachedTokens: Int

    public init(requestId: RequestID, newTokenIds: [Int], newTokens: [SampledToken], finishReason: FinishReason?, numCachedTokens: Int) {
        self.requestId = requestId
        self.newTokenIds = newTokenIds
        self.newTokens = newTokens
        self.finishReason = finishReason
        self.numCachedTokens = numCachedTokens
    }
}

/// Counters and gauges for `/metrics` and the periodic log line.
public struct SchedulerStats: Sendable, Equatable {
    public var numRunning = 0
    public var numWaiting = 0
    public var kvCacheUsage = 0.0
    public var numPreemptionsTotal = 0
    public var prefixCacheQueries = 0
    public var prefixCacheHits = 0

    public init() {}

    public init(numRunning: Int, numWaiting: Int, kvCacheUsage: Double, numPreemptionsTotal: Int,
                prefixCacheQueries: Int, prefixCacheHits: Int) {
        self.numRunning = numRunning
        self.numWaiting = numWaiting
        self.kvCacheUsage = kvCacheUsage
        self.numPreemptionsTotal = numPreemptionsTotal
        self.prefixCacheQueries = prefixCacheQueries
        self.prefixCacheHits = prefixCacheHits
    }
}
