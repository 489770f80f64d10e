/// Decides, each step, which requests run and how many tokens each computes. Pure: no compute,
/// no clocks of its own (times come from the caller), so the simulator drives the same code.
///
/// vLLM v1's rule: no prefill/decode phases. Each request's `numComputedTokens` catches up with
/// its `numTokens` under the step's token budget; that alone yields chunked prefill, decode
/// batching and prefix-cache skips. Running requests go first, then waiting ones. When blocks
/// run out the lowest-priority running request is preempted (recomputed later) and nothing new
/// is admitted in that step.
public final class Scheduler: @unchecked Sendable {
    public let config: SchedulerConfig
    public private(set) var kvCache: KVCacheManager
    public private(set) var waiting: [Request] = []
    public private(set) var running: [Request] = []
    private var requests: [RequestID: Request] = [:]
    /// Requests whose state the workers hold; cleared on finish, abort and preemption.
    private var knownToWorkers: Set<RequestID> = []
    private var released: [RequestID] = []
    private var nextStepId = 0
    public private(set) var numPreemptionsTotal = 0
    public private(set) var events: [EngineEvent] = []

    /// `numBlocks` includes the null block. The engine makes sure one max-model-len sequence
    /// fits, so a request alone always makes progress.
    public init(config: SchedulerConfig, numBlocks: Int) {
        self.config = config
        kvCache = KVCacheManager(numBlocks: numBlocks, blockSize: config.blockSize, enablePrefixCaching: config.enablePrefixCaching)
    }

    public var hasUnfinishedRequests: Bool { !waiting.isEmpty || !running.isEmpty }
    public func request(_ id: RequestID) -> Request? { requests[id] }

    public var stats: SchedulerStats {
        SchedulerStats(numRunning: running.count, numWaiting: waiting.count, kvCacheUsage: kvCache.usage,
                       numPreemptionsTotal: numPreemptionsTotal, prefixCacheQueries: kvCache.prefixCacheQueries,
                       prefixCacheHits: kvCache.prefixCacheHits)
    }

    /// Queues a request. Its prompt must leave room for at least one generated token.
    public func add(_ request: Request, now: Double) throws(EngineError) {
        guard requests[request.id] == nil else { throw .invalidRequest("request id '\(request.id)' is already in use") }
        guard !request.promptTokenIds.isEmpty else { throw .invalidRequest("the prompt is empty") }
        guard request.numPromptTokens < config.maxModelLen else {
            throw .invalidRequest("the prompt (\(request.numPromptTokens) tokens) is longer than the maximum model length of \(config.maxModelLen) tokens; shorten it or raise --max-model-len")
        }
        try request.sampling.validate()
        requests[request.id] = request
        request.status = .waiting
        waiting.append(request)
        events.append(EngineEvent(requestId: request.id, kind: .queued, time: now))
    }

    /// Finishes requests wherever they are (waiting, running, or in a batch in flight).
    public func finish(_ ids: [RequestID], reason: FinishReason, now: Double) {
        for id in ids {
            guard let request = requests[id], !request.status.isFinished else { continue }
            waiting.removeAll { $0 === request }
            running.removeAll { $0 === request }
            release(request)
            request.status = .finished(reason)
            requests[id] = nil
            events.append(EngineEvent(requestId: id, kind: .finished, time: now))
        }
    }

    public func drainEvents() -> [EngineEvent] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    // MARK: scheduling

    public func schedule(now: Double) -> SchedulerOutput {
        // Each in-flight pipeline batch gets about 1/pp of the budget, so later micro-batches
        // are not starved (vLLM fills the first and leaves the rest thin).
        let depth = config.pipelineDepth
        var budget = depth > 1 ? max(1, config.maxNumBatchedTokens / depth) : config.maxNumBatchedTokens
        // Sequences are split evenly over the in-flight batches: with 32 decoding requests and 2
        // stages each batch takes 16, so the second stage never waits on an empty batch.
        let active = min(config.maxNumSeqs, running.count + waiting.count)
        let seqCap = depth > 1 ? max(1, (active + depth - 1) / depth) : config.maxNumSeqs
        var scheduled: [(request: Request, tokens: Int, newData: Bool)] = []
        var preemptedThisStep = 0

        var index = 0
        while index < running.count && budget > 0 && scheduled.count < seqCap {
            let request = running[index]
            let numNew = tokensToCompute(request, budget: budget)
            if numNew == 0 {  // waiting for a token still in flight, or at max-model-len
                index += 1
                continue
            }
            var admitted = true
            while kvCache.allocateSlots(for: request, numNewTokens: numNew) == nil {
                let victim = preemptionVictim()
                if let undone = scheduled.firstIndex(where: { $0.request === victim }) {
                    budget += scheduled[undone].tokens
                    scheduled.remove(at: undone)
                    index -= 1
                }
                preempt(victim, now: now)
                preemptedThisStep += 1
                if victim === request {
                    admitted = false
                    break
                }
            }
            guard admitted else { continue }
            scheduled.append((request, numNew, false))
            budget -= numNew
            index += 1
        }

        if preemptedThisStep == 0 {
            while budget > 0, running.count < config.maxNumSeqs, scheduled.count < seqCap,
                  let next = nextWaitingIndex() {
                let request = waiting[next]
                let hit: (blocks: [Int32], numTokens: Int) = request.numComputedTokens == 0 ? kvCache.computedBlocks(for: request) : ([], 0)
                var numNew = request.numTokens - request.numComputedTokens - hit.numTokens
                if numNew > budget {
                    guard config.enableChunkedPrefill else { break }
                    numNew = budget
                }
                guard kvCache.allocateSlots(for: request, numNewTokens: numNew, cachedBlocks: hit.blocks, numCachedTokens: hit.numTokens) != nil else { break }
                waiting.remove(at: next)
                request.numComputedTokens += hit.numTokens
                request.numCachedTokens = hit.numTokens
                if request.status == .waiting { events.append(EngineEvent(requestId: request.id, kind: .scheduled, time: now)) }
                request.status = .running
                running.append(request)
                scheduled.append((request, numNew, true))
                budget -= numNew
            }
        }

        // An empty step sends nothing, so released ids wait for the next batch that runs.
        guard !scheduled.isEmpty else {
            return SchedulerOutput(stepId: nextStepId, requests: [], releasedRequestIds: [], numPreemptions: preemptedThisStep)
        }
        var out = SchedulerOutput(stepId: nextStepId, requests: [], releasedRequestIds: released, numPreemptions: preemptedThisStep)
        nextStepId += 1
        released.removeAll()
        for (request, numNew, _) in scheduled {
            let start = request.numComputedTokens
            request.numComputedTokens += numNew
            var newData: NewRequestData?
            if knownToWorkers.insert(request.id).inserted {
                newData = NewRequestData(promptTokenIds: request.promptTokenIds, outputTokenIds: request.outputTokenIds,
                                         sampling: request.sampling, eosTokenIds: request.eosTokenIds, seed: request.seed)
            }
            out.requests.append(ScheduledRequest(
                id: request.id, newRequest: newData, numTokens: numNew, startPosition: start,
                tokenIds: request.tokens(start..<(start + numNew)),
                blockTable: kvCache.blockTable(for: request.id), samples: request.numComputedTokens == request.numTokens))
        }
        return out
    }

    /// Tokens a running request can compute now: what it lacks, within the budget and max-model-len.
    private func tokensToCompute(_ request: Request, budget: Int) -> Int {
        let lacking = request.numTokens - request.numComputedTokens
        let roomInModel = config.maxModelLen - request.numComputedTokens
        return max(0, min(lacking, budget, roomInModel))
    }

    private func nextWaitingIndex() -> Int? {
        guard !waiting.isEmpty else { return nil }
        switch config.policy {
        case .fcfs:
            return 0
        case .priority:
            return waiting.indices.min { (waiting[$0].priority, waiting[$0].arrivalTime) < (waiting[$1].priority, waiting[$1].arrivalTime) }
        }
    }

    private func preemptionVictim() -> Request {
        switch config.policy {
        case .fcfs:
            return running.last!
        case .priority:
            return running.max { ($0.priority, $0.arrivalTime) < ($1.priority, $1.arrivalTime) }!
        }
    }

    /// Recompute preemption: drop the request's blocks (its hashes stay, so it may re-hit its
    /// own prefix) and put it at the front of the queue.
    private func preempt(_ request: Request, now: Double) {
        running.removeAll { $0 === request }
        release(request)
        request.status = .preempted
        request.numComputedTokens = 0
        request.numPreemptions += 1
        numPreemptionsTotal += 1
        waiting.insert(request, at: 0)
        events.append(EngineEvent(requestId: request.id, kind: .preempted, time: now))
    }

    private func release(_ request: Request) {
        kvCache.free(request)
        if knownToWorkers.remove(request.id) != nil { released.append(request.id) }
    }

    // MARK: update

    /// Applies a step's sampled tokens: appends them, checks stop conditions, frees finished
    /// requests. Requests finished or preempted while the batch was in flight are skipped.
    public func update(_ output: SchedulerOutput, result: ModelRunnerOutput, now: Double) -> [EngineCoreOutput] {
        var outputs: [EngineCoreOutput] = []
        for scheduled in output.requests where scheduled.samples {
            guard let request = requests[scheduled.id], request.status == .running,
                  let sampled = result.sampled[scheduled.id] else { continue }
            // A preempted-and-resumed request may see a stale batch; only a batch that ended at
            // its current frontier carries its next token.
            guard scheduled.startPosition + scheduled.numTokens == request.numTokens else { continue }
            request.outputTokenIds.append(sampled.tokenId)
            if request.outputTokenIds.count == 1 {
                events.append(EngineEvent(requestId: request.id, kind: .firstToken, time: now))
            }
            let reason = stopReason(request, token: sampled.tokenId)
            outputs.append(EngineCoreOutput(requestId: request.id, newTokenIds: [sampled.tokenId], newTokens: [sampled],
                                            finishReason: reason, numCachedTokens: request.numCachedTokens))
            if let reason { finish([request.id], reason: reason, now: now) }
        }
        return outputs
    }

    /// vLLM's check order: min_tokens, then EOS and stop ids, then length limits.
    private func stopReason(_ request: Request, token: Int) -> FinishReason? {
        let generated = request.outputTokenIds.count
        let p = request.sampling
        if generated >= p.minTokens {
            if !p.ignoreEOS && request.eosTokenIds.contains(token) { return .stop }
            if p.stopTokenIds.contains(token) { return .stop }
        }
        if let maxTokens = p.maxTokens, generated >= maxTokens { return .length }
        if request.numTokens >= config.maxModelLen { return .length }
        return nil
    }
}
