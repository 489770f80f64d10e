import Distributed
import Engine
import Models
import Testing
import Tokenizers

/// The batching engine must produce exactly what one request run alone produces, however
/// requests are batched, chunked, cached or preempted.
@Suite struct ContinuousBatchingTests {
    static let models = ["tiny-llama", "tiny-qwen2"]

    func engine(_ name: String, model: any CausalLanguageModel, kvTokens: Int = 1 << 16, budget: Int = 2048, maxLen: Int = 512,
                prefixCaching: Bool = true) throws -> LLMEngine {
        var cache = CacheConfig()
        cache.blockSize = 16
        cache.kvCacheMemory = (kvTokens / 16) * KVCacheBudgetBytes.perBlock(model)
        var scheduler = SchedulerConfig()
        scheduler.maxNumBatchedTokens = budget
        scheduler.maxModelLen = maxLen
        scheduler.enablePrefixCaching = prefixCaching
        let tokenizer = try BPETokenizer(directory: .init(fileURLWithPath: Fixtures.path(name)))
        return try LocalEngine.make(model: model, tokenizer: tokenizer, cache: cache, scheduler: scheduler)
    }

    /// What each prompt gives alone, through the reference single-sequence loop.
    func alone(_ model: any CausalLanguageModel, _ prompts: [[Int]], maxTokens: Int) -> [[Int]] {
        let generator = TextGenerator(model: model)
        return prompts.map { generator.generate(prompt: $0, maxTokens: maxTokens) }
    }

    func greedy(_ maxTokens: Int) -> SamplingParams {
        var p = SamplingParams.greedy
        p.maxTokens = maxTokens
        p.ignoreEOS = true
        return p
    }

    @Test(arguments: models)
    func sixtyFourMixedPromptsMatchRunningAlone(name: String) throws {
        let model = try ModelLoader.load(directory: Fixtures.path(name))
        let lengths = (0..<64).map { 1 + ($0 * 37) % 90 }
        let prompts = syntheticPrompts(lengths: lengths, seed: 1)
        let expected = alone(model, prompts, maxTokens: 12)
        let outputs = try engine(name, model: model, budget: 256).generate(prompts, params: greedy(12))
        #expect(outputs.map { $0.outputs[0].tokenIds } == expected)
    }

    @Test(arguments: models)
    func repeatedLongPromptHitsThePrefixCache(name: String) throws {
        let model = try ModelLoader.load(directory: Fixtures.path(name))
        let prompt = syntheticPrompts(lengths: [150], seed: 2)[0]
        let e = try engine(name, model: model)
        let first = try e.generate([prompt], params: greedy(10))[0]
        let hitsBefore = e.core.scheduler.stats.prefixCacheHits
        let second = try e.generate([prompt], params: greedy(10))[0]
        #expect(first.numCachedTokens == 0 && second.numCachedTokens == 144)
        #expect(e.core.scheduler.stats.prefixCacheHits == hitsBefore + 144)
        #expect(second.outputs[0].tokenIds == first.outputs[0].tokenIds)
        #expect(first.outputs[0].tokenIds == alone(model, [prompt], maxTokens: 10)[0])
    }

    @Test(arguments: models)
    func kvPressurePreemptsWithoutChangingOutputs(name: String) throws {
        let model = try ModelLoader.load(directory: Fixtures.path(name))
        let prompts = syntheticPrompts(lengths: (0..<32).map { 20 + ($0 * 13) % 40 }, seed: 3)
        let expected = alone(model, prompts, maxTokens: 24)
        // About three sequences of up to 84 tokens fit: 16 blocks of 16.
        let e = try engine(name, model: model, kvTokens: 256, maxLen: 128, prefixCaching: false)
        let outputs = try e.generate(prompts, params: greedy(24))
        #expect(e.core.scheduler.numPreemptionsTotal > 0)
        #expect(outputs.map { $0.outputs[0].tokenIds } == expected)
    }

    @Test(arguments: models)
    func promptLongerThanTheBudgetIsChunked(name: String) throws {
        let model = try ModelLoader.load(directory: Fixtures.path(name))
        let prompt = syntheticPrompts(lengths: [300], seed: 4)[0]
        let e = try engine(name, model: model, budget: 64)
        let output = try e.generate([prompt], params: greedy(8))[0]
        #expect(output.outputs[0].tokenIds == alone(model, [prompt], maxTokens: 8)[0])
    }

    @Test func fixtureGreedyContinuationsThroughTheEngine() throws {
        let model = try ModelLoader.load(directory: Fixtures.path("tiny-llama"))
        let e = try engine("tiny-llama", model: model)
        let prompt = e.tokenizer.encode("The capital of France is")
        var params = SamplingParams.greedy
        params.maxTokens = 24
        params.skipSpecialTokens = false
        let out = try e.generate([prompt], params: params)[0].outputs[0]
        #expect(out.tokenIds == [91, 91, 91, 444, 442, 220, 220, 220, 220, 366, 449, 442, 220, 366, 449, 442, 442, 442, 438, 438, 438, 438, 352, 449])
        #expect(out.text == "wwwheication\u{1b}\u{1b}\u{1b}\u{1b} copyainication\u{1b} copyainicationicationicationququququ itain")
        #expect(out.finishReason == .length)
    }
}

enum KVCacheBudgetBytes {
    static func perBlock(_ model: any CausalLanguageModel) -> Int {
        KVCacheBudget.bytesPerBlock(layers: model.config.numLayers, blockSize: 16, kvHeads: model.config.numKVHeads, headDim: model.config.headDim)
    }
}
