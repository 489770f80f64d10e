import Foundation
import Synchronization
import Tokenizers

/// What the engine loop reports after each step, for metrics and logs.
public protocol EngineObserver: AnyObject, Sendable {
    func engineStepped(stats: SchedulerStats, events: [EngineEvent], outputs: [RequestOutput], now: Double)
    /// A client request was aborted before it finished (its samples produce no final output).
    func requestAborted(_ id: RequestID)
}

/// The async front of the engine for servers: requests come in from any task, each engine
/// replica runs its loop on a dedicated thread (`EngineReplica`), and each request's outputs
/// come back as an async stream. Cancelling a stream (a client hanging up) aborts its request
/// and frees its blocks. With data parallelism it fronts several replicas, each with its own
/// devices and KV cache, and a `ReplicaRouter` picks each request's replica.
public final class EngineClient: Sendable {
    private let replicas: [EngineReplica]
    private let router: Mutex<ReplicaRouter>
    private let replicaStats: ReplicaStats
    private let counter = Atomic<Int>(0)

    public convenience init(engine: LLMEngine, observer: (any EngineObserver)? = nil) {
        self.init(engines: [engine], routing: .roundRobin, observer: observer)
    }

    /// Data parallel: one replica per engine. Prefix-aware routing remembers about one KV cache
    /// of blocks per replica.
    public init(engines: [LLMEngine], routing: RoutingPolicy, observer: (any EngineObserver)? = nil) {
        precondition(!engines.isEmpty, "an engine client needs an engine")
        let first = engines[0].core
        let stats = ReplicaStats(replicas: engines.count, observer: observer)
        replicaStats = stats
        router = Mutex(ReplicaRouter(replicas: engines.count, policy: routing, blockSize: first.scheduler.config.blockSize,
                                     rememberedBlocks: max(1, first.executor.numBlocks - 1)))
        replicas = engines.enumerated().map { EngineReplica(engine: $1, index: $0, stats: stats) }
    }

    public var tokenizer: any Tokenizer { replicas[0].engine.tokenizer }
    public var maxModelLen: Int { replicas[0].engine.core.scheduler.config.maxModelLen }
    public var vocabSize: Int { replicas[0].engine.core.executor.vocabSize }
    public var dataParallelSize: Int { replicas.count }
    /// False once any replica's executor has failed; the server's /health turns 503.
    public var isHealthy: Bool { replicas.allSatisfy(\.isHealthy) }
    /// The replicas' stats as one engine's: counts summed, KV usage averaged.
    public var stats: SchedulerStats { replicaStats.total }
    /// Each replica's own stats, in replica order.
    public var statsPerReplica: [SchedulerStats] { replicaStats.perReplica }

    /// A device was found dead outside a step (the engine was idle): /health turns 503.
    public func markUnhealthy() { replicas.forEach { $0.markUnhealthy() } }

    public func makeRequestId(prefix: String) -> RequestID {
        "\(prefix)-\(counter.add(1, ordering: .relaxed).newValue)"
    }

    /// Queues a request on the replica the router picks; errors found by the engine (bad ids,
    /// lengths) end the stream.
    public func generate(id: RequestID, promptTokenIds: [Int], params: SamplingParams, priority: Int = 0)
        -> AsyncThrowingStream<RequestOutput, any Error>
    {
        let replica = replicas.count == 1 ? 0 : router.withLock { $0.route(promptTokenIds, loads: replicas.map(\.load)) }
        return replicas[replica].generate(id: id, promptTokenIds: promptTokenIds, params: params, priority: priority)
    }

    /// Aborts `id` on whichever replica holds it.
    public func abort(_ id: RequestID) { replicas.forEach { $0.abort(id) } }

    public func shutdown() { replicas.forEach { $0.shutdown() } }
}
