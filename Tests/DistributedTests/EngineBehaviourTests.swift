import Distributed
import Engine
import Models
import Testing
import Tokenizers

/// Sampling, n, aborts and events through the whole engine on a real (tiny) model.
@Suite struct EngineBehaviourTests {
    let model: any CausalLanguageModel
    let tokenizer: BPETokenizer

    init() throws {
        model = try ModelLoader.load(directory: Fixtures.path("tiny-qwen2"))
        tokenizer = try BPETokenizer(directory: .init(fileURLWithPath: Fixtures.path("tiny-qwen2")))
    }

    func engine(maxNumSeqs: Int = 256) throws -> LLMEngine {
        var cache = CacheConfig()
        cache.kvCacheMemory = 4 << 20
        var scheduler = SchedulerConfig()
        scheduler.maxModelLen = 256
        scheduler.maxNumSeqs = maxNumSeqs
        return try LocalEngine.make(model: model, tokenizer: tokenizer, cache: cache, scheduler: scheduler)
    }

    func sampled(seed: UInt64?) -> SamplingParams {
        var p = SamplingParams()
        p.temperature = 1.0
        p.topP = 0.9
        p.seed = seed
        p.maxTokens = 16
        p.ignoreEOS = true
        return p
    }

    @Test func seededSamplingIgnoresBatchComposition() throws {
        let prompt = syntheticPrompts(lengths: [20], seed: 9)[0]
        let alone = try engine().generate([prompt], params: sampled(seed: 42))[0].outputs[0].tokenIds
        let e = try engine()
        for other in syntheticPrompts(lengths: [5, 33, 12, 50, 7], seed: 10) {
            try e.addRequest(promptTokenIds: other, params: sampled(seed: nil))
        }
        let batched = try e.generate([prompt], params: sampled(seed: 42))[0].outputs[0].tokenIds
        #expect(batched == alone)
        let otherSeed = try engine().generate([prompt], params: sampled(seed: 43))[0].outputs[0].tokenIds
        #expect(otherSeed != alone)
    }

    @Test func topKOneEqualsGreedy() throws {
        let prompt = syntheticPrompts(lengths: [25], seed: 11)[0]
        var topK = sampled(seed: 1)
        topK.topK = 1
        topK.topP = 1
        var greedy = SamplingParams.greedy
        greedy.maxTokens = 16
        greedy.ignoreEOS = true
        let e = try engine()
        #expect(try e.generate([prompt], params: topK)[0].outputs[0].tokenIds == e.generate([prompt], params: greedy)[0].outputs[0].tokenIds)
    }

    @Test func nSamplesShareThePromptBlocks() throws {
        let prompt = syntheticPrompts(lengths: [64], seed: 12)[0]
        var params = sampled(seed: 5)
        params.n = 3
        let e = try engine()
        let out = try e.generate([prompt], params: params)[0]
        #expect(out.outputs.count == 3 && out.outputs.map(\.index) == [0, 1, 2])
        #expect(Set(out.outputs.map(\.tokenIds)).count > 1)
        // Later samples find the first one's full prompt blocks in the cache.
        #expect(e.core.scheduler.stats.prefixCacheHits >= 2 * 48)
    }

    @Test func abortFreesBlocksMidGeneration() throws {
        let e = try engine()
        let free = e.core.scheduler.kvCache.numFreeBlocks
        var params = SamplingParams.greedy
        params.maxTokens = 100
        let id = try e.addRequest(promptTokenIds: syntheticPrompts(lengths: [40], seed: 13)[0], params: params)
        _ = try e.step()
        _ = try e.step()
        #expect(e.core.scheduler.kvCache.numFreeBlocks < free)
        e.abort(id)
        #expect(!e.hasUnfinishedRequests && e.core.scheduler.kvCache.numFreeBlocks == free)
    }

    @Test func eventsAreTimestampedInOrder() throws {
        let e = try engine()
        var params = SamplingParams.greedy
        params.maxTokens = 3
        _ = try e.generate([syntheticPrompts(lengths: [10], seed: 14)[0]], params: params)
        let events = e.core.scheduler.drainEvents()
        #expect(events.map(\.kind) == [.queued, .scheduled, .firstToken, .finished])
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.time <= $1.time })
    }

    @Test func badRequestsAreRejectedWithoutHarmingOthers() throws {
        let e = try engine()
        var params = SamplingParams.greedy
        params.maxTokens = 4
        let good = try e.addRequest(promptTokenIds: [5, 6, 7], params: params)
        #expect(throws: EngineError.self) { try e.addRequest(promptTokenIds: [5, 100_000], params: params) }
        #expect(throws: EngineError.self) { try e.addRequest(promptTokenIds: [], params: params) }
        var bad = params
        bad.topP = 0
        #expect(throws: EngineError.self) { try e.addRequest(promptTokenIds: [5], params: bad) }
        var done: RequestOutput?
        while e.hasUnfinishedRequests { for out in try e.step() where out.finished { done = out } }
        #expect(done?.requestId == good && done?.outputs[0].tokenIds.count == 4)
    }
}
