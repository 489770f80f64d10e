@testable import Engine

/// Drives the pure scheduler the way the engine core does, with sampled tokens supplied by a
/// rule instead of a model: schedule, "execute", update.
final class SchedulerHarness {
    let scheduler: Scheduler
    var now = 0.0
    var steps: [SchedulerOutput] = []
    var finished: [RequestID: FinishReason] = [:]
    /// Token sampled for a request at its output index.
    var token: (RequestID, Int) -> Int = { _, i in 100 + i }

    init(_ config: SchedulerConfig, numBlocks: Int) {
        scheduler = Scheduler(config: config, numBlocks: numBlocks)
    }

    @discardableResult
    func add(_ id: String, prompt: Int, maxTokens: Int = 4, priority: Int = 0, eos: Set<Int> = [],
             configure: (inout SamplingParams) -> Void = { _ in }) throws -> Request {
        var params = SamplingParams.greedy
        params.maxTokens = maxTokens
        configure(&params)
        // Distinct, deterministic prompts per id (String.hashValue is seeded per process).
        let salt = id.unicodeScalars.reduce(0) { ($0 &* 31 &+ Int($1.value)) & 0xffff }
        let r = Request(id: id, promptTokenIds: (0..<prompt).map { ($0 * 7 + salt) % 400 + 1 },
                        sampling: params, eosTokenIds: eos, arrivalTime: now, priority: priority)
        try scheduler.add(r, now: now)
        return r
    }

    @discardableResult
    func step() -> SchedulerOutput {
        now += 1
        let out = scheduler.schedule(now: now)
        var sampled: [RequestID: SampledToken] = [:]
        for s in out.requests where s.samples {
            let index = scheduler.request(s.id)?.outputTokenIds.count ?? 0
            sampled[s.id] = SampledToken(tokenId: token(s.id, index), logprob: nil, topLogprobs: [])
        }
        for o in scheduler.update(out, result: ModelRunnerOutput(sampled: sampled), now: now) {
            if let reason = o.finishReason { finished[o.requestId] = reason }
        }
        steps.append(out)
        return out
    }

    func runToCompletion(limit: Int = 10_000) {
        var n = 0
        while scheduler.hasUnfinishedRequests && n < limit {
            step()
            n += 1
        }
    }
}
