import Distributed
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import Synchronization
import Testing
import Tokenizers

/// Fault injection: the real executor, failing from its `failAt`-th step on (a dead device).
final class FailingExecutor: Executor, @unchecked Sendable {
    let inner: UniProcessExecutor
    let failAt: Int
    let calls = Atomic<Int>(0)
    init(inner: UniProcessExecutor, failAt: Int) {
        self.inner = inner
        self.failAt = failAt
    }
    var numBlocks: Int { inner.numBlocks }
    var vocabSize: Int { inner.vocabSize }
    func submit(_ batch: SchedulerOutput) throws {
        if calls.add(1, ordering: .relaxed).newValue >= failAt { throw EngineError.executionFailed("device lost") }
        try inner.submit(batch)
    }
    func collect() throws -> ModelRunnerOutput { try inner.collect() }
}

@Suite struct HealthTests {
    @Test func aFailedEngineTurnsHealthTo503AndFailsRequestsClearly() async throws {
        var cache = CacheConfig()
        cache.kvCacheMemory = 4 << 20
        var scheduler = SchedulerConfig()
        scheduler.maxModelLen = 256
        let executor = FailingExecutor(inner: try UniProcessExecutor(model: Fixtures.tinyLlama, cache: cache, scheduler: scheduler), failAt: 3)
        let tokenizer = try BPETokenizer(directory: URL(fileURLWithPath: Fixtures.path("tiny-llama")))
        let llm = LLMEngine(core: try EngineCore(config: scheduler, executor: executor), tokenizer: tokenizer, eosTokenIds: [2])
        let metrics = ServerMetrics(modelName: "tiny")
        let server = OpenAIServer(engine: EngineClient(engine: llm, observer: metrics),
                                  config: ServerConfig(servedModelName: "tiny", modelPath: "x"), metrics: metrics, chat: nil)
        let app = Application(router: server.router())
        try await app.test(.router) { client in
            #expect(try await client.get("/health").status == 200)
            // ignore_eos: a sampled end-of-sequence would finish the request before the executor fails
            // (seen once in the full suite: one token, then EOS, a 200).
            let r = try await client.post("/v1/completions", #"{"prompt":"hello","max_tokens":10,"ignore_eos":true}"#)
            #expect(r.status == 500 && r.text.contains("device lost"), "\(r.text)")
            #expect(try await client.get("/health").status == 503)
            let after = try await client.post("/v1/completions", #"{"prompt":"hello","max_tokens":10}"#)
            #expect(after.status == 503 && after.text.contains("not running"))
        }
    }
}
