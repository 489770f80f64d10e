/// Why a request stopped: vLLM's finish reasons.
public enum FinishReason: String, Sendable, Codable {
    /// EOS, a stop token id or a stop string.
    case stop
    /// max_tokens or max-model-len reached.
    case length
    /// Cancelled by the client or the engine.
    case abort
}

public enum RequestStatus: Sendable, Equatable {
    case waiting
    case running
    /// Evicted under KV pressure; waits to be recomputed from its tokens.
    case preempted
    case finished(FinishReason)

    public var isFinished: Bool {
        if case .finished = self { return true }
        return false
    }
}

public typealias RequestID = String

/// One sequence as the scheduler sees it. Reference type: the scheduler's queues and the
/// KV manager share it, and its counters move every step.
public final class Request: @unchecked Sendable {
    public let id: RequestID
    public let promptTokenIds: [Int]
    public let sampling: SamplingParams
    public let arrivalTime: Double
    /// Lower value is served first under `--scheduling-policy priority` (vLLM's convention).
    public let priority: Int
    /// Mixed into the first block's hash so tenants do not share cache (vLLM's cache_salt).
    public let cacheSalt: String?
    /// EOS ids of the model; ignored with `ignore_eos`.
    public let eosTokenIds: Set<Int>
    /// `sampling.seed`, or a random one drawn at creation: every sample is seeded, so a request
    /// samples the same way whatever it is batched with and across preemptions.
    public let seed: UInt64

    public internal(set) var outputTokenIds: [Int] = []
    public internal(set) var status: RequestStatus = .waiting
    /// Tokens whose K/V is computed or scheduled to be (advanced at schedule time).
    public internal(set) var numComputedTokens = 0
    /// Tokens found in the prefix cache when last admitted.
    public internal(set) var numCachedTokens = 0
    public internal(set) var numPreemptions = 0
    /// Chained hashes of this request's full blocks, extended as tokens arrive.
    var blockHashes: [BlockHash] = []

    public init(
        id: RequestID, promptTokenIds: [Int], sampling: SamplingParams, eosTokenIds: Set<Int> = [],
        arrivalTime: Double = 0, priority: Int = 0, cacheSalt: String? = nil
    ) {
        self.id = id
        self.promptTokenIds = promptTokenIds
        self.sampling = sampling
        self.eosTokenIds = eosTokenIds
        self.arrivalTime = arrivalTime
        self.priority = priority
        self.cacheSalt = cacheSalt
        self.seed = sampling.seed ?? UInt64.random(in: .min ... .max)
    }

    public var numTokens: Int { promptTokenIds.count + outputTokenIds.count }
    public var numPromptTokens: Int { promptTokenIds.count }

    public func token(at index: Int) -> Int {
        index < promptTokenIds.count ? promptTokenIds[index] : outputTokenIds[index - promptTokenIds.count]
    }

    public func tokens(_ range: Range<Int>) -> [Int] { range.map(token(at:)) }
    public var allTokenIds: [Int] { promptTokenIds + outputTokenIds }
}
