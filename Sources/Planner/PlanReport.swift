/// One layout's verdict and, when it fits, its simulated performance.
public struct LayoutRow: Sendable, Codable, Equatable {
    public var layout: ParallelLayout
    public var fits: Bool
    /// Why it does not fit, or a note on how it is placed when it does.
    public var reason: String
    public var tensorParallelSpansNodes: Bool
    public var memory: MemoryPlan
    /// Requests one replica runs at once in the simulation: ⌈concurrency / DP⌉.
    public var concurrencyPerReplica: Int
    /// One replica at its share of the load; nil when it does not fit or simulation was skipped.
    public var simulation: SimulationReport?
    /// Output tokens/s over all DP replicas.
    public var outputTokensPerSecond: Double?
}

public struct Recommendation: Sendable, Codable, Equatable {
    public var layout: ParallelLayout
    public var reason: String
}

/// The answer to `shardline plan`: figures for people (see `table()`) and for programs (Codable).
public struct PlanReport: Sendable, Codable, Equatable {
    public var model: String
    public var gpu: String
    public var quantization: Quantization
    public var cluster: Cluster
    public var maxModelLen: Int
    public var concurrency: Int
    public var utilization: Double
    public var promptTokens: Int
    public var outputTokens: Int
    public var intraNodeLink: String
    public var interNodeLink: String
    public var totalWeightBytes: Double
    /// Whole model, unsplit.
    public var kvBytesPerToken: Int
    public var kvBytesPerRequest: Int
    public var rows: [LayoutRow]
    public var recommendation: Recommendation?
    /// The assumptions behind the figures, printed with them.
    public var assumptions: [String]
}
