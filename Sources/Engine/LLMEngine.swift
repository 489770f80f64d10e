import Tokenizers

/// The synchronous front of the engine: token ids in, text out. Owns the engine core and the
/// output processor; the CLI and tests drive it step by step, the server from its own task.
public final class LLMEngine: @unchecked Sendable {
    public let core: EngineCore
    public let tokenizer: any Tokenizer
    public let eosTokenIds: Set<Int>
    private var processor: OutputProcessor
    private var nextRequestNumber = 0

    public init(core: EngineCore, tokenizer: any Tokenizer, eosTokenIds: Set<Int>) {
        self.core = core
        self.tokenizer = tokenizer
        self.eosTokenIds = eosTokenIds
        processor = OutputProcessor(tokenizer: tokenizer)
    }

    public var hasUnfinishedRequests: Bool { processor.numUnfinished > 0 || core.hasUnfinishedRequests }

    /// Queues a prompt; `n > 1` becomes n core requests sharing the prompt's cached blocks.
    @discardableResult
    public func addRequest(id: RequestID? = nil, promptTokenIds: [Int], params: SamplingParams,
                           priority: Int = 0, cacheSalt: String? = nil) throws(EngineError) -> RequestID {
        let id = id ?? nextId()
        try params.validate()
        let now = core.now
        var added: [RequestID] = []
        for (i, sampleId) in OutputProcessor.sampleIds(id, n: params.n).enumerated() {
            var child = params
            child.n = 1
            if let seed = params.seed { child.seed = seed &+ UInt64(i) }
            let request = Request(id: sampleId, promptTokenIds: promptTokenIds, sampling: child, eosTokenIds: eosTokenIds,
                                  arrivalTime: now, priority: priority, cacheSalt: cacheSalt)
            do {
                try core.addRequest(request)
            } catch {
                core.abort(added)
                throw error
            }
            added.append(sampleId)
        }
        processor.add(id: id, promptTokenIds: promptTokenIds, params: params)
        return id
    }

    public func abort(_ id: RequestID) {
        core.abort(processor.remove(id))
    }

    /// Runs one engine step and returns the requests it changed.
    public func step() throws -> [RequestOutput] {
        let coreOutputs = try core.step()
        let (outputs, stopped) = processor.process(coreOutputs)
        for id in stopped { core.finish(id, reason: .stop) }
        return outputs
    }

    /// Runs every prompt to completion in one continuous batch; results in prompt order.
    public func generate(_ prompts: [[Int]], params: SamplingParams) throws -> [RequestOutput] {
        var ids: [RequestID] = []
        for prompt in prompts { ids.append(try addRequest(promptTokenIds: prompt, params: params)) }
        var done: [RequestID: RequestOutput] = [:]
        while done.count < ids.count {
            let outputs = try step()
            for out in outputs where out.finished { done[out.requestId] = out }
            if outputs.isEmpty && !core.hasUnfinishedRequests && done.count < ids.count {
                throw EngineError.executionFailed("engine went idle with \(ids.count - done.count) requests unfinished")
            }
        }
        return ids.map { done[$0]! }
    }

    private func nextId() -> RequestID {
        defer { nextRequestNumber += 1 }
        return "req-\(nextRequestNumber)"
    }
}
