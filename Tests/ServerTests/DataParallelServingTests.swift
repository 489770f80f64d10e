import Distributed
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Models
import Server
import Testing
import Tokenizers

/// `serve --data-parallel-size`: replicas, each its own engine (own model load, executor and KV
/// cache), behind one EngineClient and its router.
@Suite struct DataParallelServingTests {
    static func server(replicas: Int, routing: RoutingPolicy) throws -> OpenAIServer {
        var cache = CacheConfig()
        cache.kvCacheMemory = 8 << 20
        var scheduler = SchedulerConfig()
        scheduler.maxModelLen = 256
        let tokenizer = try BPETokenizer(directory: URL(fileURLWithPath: Fixtures.path("tiny-llama")))
        let engines = try (0..<replicas).map { _ in
            try LocalEngine.make(model: try ModelLoader.load(directory: Fixtures.path("tiny-llama")), tokenizer: tokenizer,
                                 cache: cache, scheduler: scheduler)
        }
        let metrics = ServerMetrics(modelName: "tiny")
        var config = ServerConfig(servedModelName: "tiny", modelPath: Fixtures.path("tiny-llama"))
        config.port = 0
        return OpenAIServer(engine: EngineClient(engines: engines, routing: routing, observer: metrics), config: config,
                            metrics: metrics, chat: nil)
    }

    static let prompts = ["The capital of France is", "Once upon a time", "1, 2, 3,", "The quick brown fox"]

    func texts(_ server: OpenAIServer) async throws -> [String] {
        let app = Application(router: server.router())
        return try await app.test(.router) { client in
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for (i, prompt) in Self.prompts.enumerated() {
                    group.addTask {
                        let r = try await client.post("/v1/completions", #"{"prompt":"\#(prompt)","max_tokens":12,"temperature":0,"ignore_eos":true}"#)
                        let choice = try #require((r.json?["choices"] as? [[String: Any]])?.first, "\(r.text)")
                        return (i, try #require(choice["text"] as? String))
                    }
                }
                var out = [String](repeating: "", count: Self.prompts.count)
                for try await (i, text) in group { out[i] = text }
                return out
            }
        }
    }

    @Test func replicasGiveOneEnginesGreedyTextAndShareTheWork() async throws {
        let single = try await texts(try Self.server(replicas: 1, routing: .roundRobin))
        let server = try Self.server(replicas: 2, routing: .roundRobin)
        #expect(try await texts(server) == single)
        #expect(server.engine.dataParallelSize == 2)
        // Round-robin: each replica looked up (and so served) two of the four prompts.
        let perReplica = server.engine.statsPerReplica
        #expect(perReplica.map(\.prefixCacheQueries).allSatisfy { $0 > 0 }, "\(perReplica)")
        // /metrics adds the replicas up.
        let total = perReplica.map(\.prefixCacheQueries).reduce(0, +)
        #expect(server.metrics.render().contains(#"shardline:prefix_cache_queries_total{model_name="tiny"} \#(total)"#))
        #expect(server.engine.stats.numRunning == 0 && server.engine.stats.kvCacheUsage == 0)
    }

    /// A conversation's second turn repeats its first turn's prompt: prefix-aware routing sends it
    /// to the replica that cached it, round-robin to the other one.
    @Test(arguments: [(RoutingPolicy.prefixAware, true), (.roundRobin, false)])
    func prefixAwareRoutingKeepsAConversationWarm(routing: RoutingPolicy, expectHit: Bool) async throws {
        let server = try Self.server(replicas: 2, routing: routing)
        let app = Application(router: server.router())
        let turn = String(repeating: "The tiny model tells a long story about the sea. ", count: 4)
        try await app.test(.router) { client in
            for body in [turn, turn + "And then?"] {
                let r = try await client.post("/v1/completions", #"{"prompt":"\#(body)","max_tokens":2,"temperature":0}"#)
                #expect(r.status == 200, "\(r.text)")
            }
        }
        let hits = server.engine.statsPerReplica.map(\.prefixCacheHits)
        #expect((hits.reduce(0, +) > 0) == expectHit, "\(hits)")
    }
}
