/// What a worker needs to know of a request the first time it sees it (or again after a
/// preemption): everything to rebuild its tokens and sample for it.
public struct NewRequestData: Sendable, Codable {
    public var promptTokenIds: [Int]
    public var outputTokenIds: [Int]
    public var sampling: SamplingParams
    public var eosTokenIds: Set<Int>
    /// The request's sampling seed: `sampling.seed`, or one drawn at arrival.
    public var seed: UInt64
}

/// One request's share of a step.
public struct ScheduledRequest: Sendable {
    public var id: RequestID
    /// Set when the worker has no state for this request yet (new or resumed).
    public var newRequest: NewRequestData?
    /// Tokens whose K/V this step computes, starting at `startPosition`.
    public var numTokens: Int
    public var startPosition: Int
    /// The tokens at positions startPosition..<startPosition+numTokens: the step's input, so a
    /// first pipeline stage never needs a token that only the last stage sampled.
    public var tokenIds: [Int]
    /// The request's whole block table after this step's allocation.
    public var blockTable: [Int32]
    /// True when this step reaches the request's last known token, so a token is sampled.
    public var samples: Bool

    public init(id: RequestID, newRequest: NewRequestData?, numTokens: Int, startPosition: Int, tokenIds: [Int],
                blockTable: [Int32], samples: Bool) {
        self.id = id
        self.newRequest = newRequest
        self.numTokens = numTokens
        self.startPosition = startPosition
        self.tokenIds = tokenIds
        self.blockTable = blockTable
        self.samples = samples
    }
}

/// One step's batch, from the scheduler to the executor. A plain value: it can cross a
/// process boundary and be replayed by the simulator.
public struct SchedulerOutput: Sendable {
    public var stepId: Int
    public var requests: [ScheduledRequest]
    /// Requests finished, aborted or preempted since the last step: workers drop their state.
    public var releasedRequestIds: [RequestID]
    public var numPreemptions: Int

    public init(stepId: Int, requests: [ScheduledRequest], releasedRequestIds: [RequestID], numPreemptions: Int) {
        self.stepId = stepId
        self.requests = requests
        self.releasedRequestIds = releasedRequestIds
        self.numPreemptions = numPreemptions
    }

    public var totalTokens: Int { requests.reduce(0) { $0 + $1.numTokens } }
    public var isEmpty: Bool { requests.isEmpty }
}

/// What the executor returns for a step: a sampled token per sampling request.
public struct ModelRunnerOutput: Sendable {
    public var sampled: [RequestID: SampledToken]

    public init(sampled: [RequestID: SampledToken]) { self.sampled = sampled }
}
