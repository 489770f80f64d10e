import Distributed
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Models
import Router
import Server
import Testing
import Tokenizers
#if canImport(Glibc)
import Glibc
#endif

enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

/// A tiny-llama `serve` replica, for the router to reach over HTTP.
func replica() throws -> OpenAIServer {
    var cache = CacheConfig()
    cache.kvCacheMemory = 8 << 20
    var scheduler = SchedulerConfig()
    scheduler.maxModelLen = 4096
    let tokenizer = try BPETokenizer(directory: URL(fileURLWithPath: Fixtures.path("tiny-llama")))
    let llm = try LocalEngine.make(model: try ModelLoader.load(directory: Fixtures.path("tiny-llama")), tokenizer: tokenizer,
                                   cache: cache, scheduler: scheduler)
    let metrics = ServerMetrics(modelName: "tiny")
    var config = ServerConfig(servedModelName: "tiny", modelPath: "tiny-llama")
    config.port = 0
    return OpenAIServer(engine: EngineClient(engine: llm, observer: metrics), config: config, metrics: metrics, chat: nil)
}

/// Runs `body` with `count` live replicas and their base URLs.
func withReplicas(_ count: Int, _ body: @escaping @Sendable ([OpenAIServer], [String]) async throws -> Void) async throws {
    @Sendable func start(_ started: [OpenAIServer], _ urls: [String]) async throws {
        guard started.count < count else { return try await body(started, urls) }
        let server = try replica()
        try await server.application().test(.live) { client in
            try await start(started + [server], urls + ["http://127.0.0.1:\(try #require(client.port))"])
        }
    }
    try await start([], [])
}

extension TestClientProtocol {
    func post(_ uri: String, _ json: String) async throws -> (status: Int, text: String) {
        try await execute(uri: uri, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: json)) {
            ($0.status.code, String(buffer: $0.body))
        }
    }
}

/// The first choice's text of a completions response body.
@Sendable func text(_ body: String) -> String? {
    ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any])
        .flatMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }
}

/// Nothing listens on port 1 of the loopback: a replica that cannot be reached.
let unreachable = "http://127.0.0.1:1"

@Suite(.serialized) struct RouterTests {
    @Test func passesResponsesThroughAndFailsOverFromAnUnreachableReplica() async throws {
        try await withReplicas(1) { _, urls in
            let router = RouterServer(config: .init(backends: [unreachable, urls[0]], routing: .roundRobin))
            defer { Task { await router.shutdown() } }
            let direct = Application(router: try replica().router())
            let body = #"{"prompt":"The capital of France is","max_tokens":8,"temperature":0}"#
            let expected = try await direct.test(.router) { try await $0.post("/v1/completions", body) }
            try await Application(router: router.router()).test(.router) { client in
                // Round-robin starts at the unreachable one: the request moves on, once.
                let r = try await client.post("/v1/completions", body)
                #expect(r.status == 200 && text(r.text) == text(expected.text) && text(r.text) != nil, "\(r.text)")
                #expect(router.healthyBackends == [urls[0]])
                // Streamed through, the events add up to the whole answer.
                let stream = try await client.post("/v1/completions", #"{"prompt":"The capital of France is","max_tokens":8,"temperature":0,"stream":true}"#)
                let streamed = stream.text.components(separatedBy: "\n").filter { $0.hasPrefix("data: {") }
                    .compactMap { text(String($0.dropFirst(6))) }.joined()
                #expect(stream.status == 200 && stream.text.hasSuffix("data: [DONE]\n\n") && streamed == text(expected.text), "\(stream.text)")
                let wrong = try await client.post("/v1/completions", #"{"prompt":"x","model":"nope"}"#)
                #expect(wrong.status == 404 && wrong.text.contains("does not exist"))
                let models = try await client.execute(uri: "/v1/models", method: .get) { String(buffer: $0.body) }
                #expect(models.contains(#""id":"tiny""#))
                let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                #expect(metrics.contains("shardline:router_failovers_total 1") && metrics.contains(#"shardline:router_backend_healthy{backend="\#(unreachable)"} 0"#))
            }
        }
    }

    /// A conversation's second turn repeats its first: prefix-aware routing sends it to the
    /// replica whose cache holds it; round-robin, to the other one.
    @Test(arguments: [(RoutingPolicy.prefixAware, true), (.roundRobin, false)])
    func prefixAwareRoutingKeepsAConversationOnOneReplica(routing: RoutingPolicy, expectHit: Bool) async throws {
        try await withReplicas(2) { servers, urls in
            let router = RouterServer(config: .init(backends: urls, routing: routing))
            defer { Task { await router.shutdown() } }
            let turn = String(repeating: "The tiny model tells a long story about the sea. ", count: 4)
            try await Application(router: router.router()).test(.router) { client in
                for prompt in [turn, turn + "And then?"] {
                    let r = try await client.post("/v1/completions", #"{"prompt":"\#(prompt)","max_tokens":2,"temperature":0}"#)
                    #expect(r.status == 200, "\(r.text)")
                }
            }
            let hits = servers.map(\.engine.stats.prefixCacheHits)
            #expect((hits.reduce(0, +) > 0) == expectHit, "\(hits)")
        }
    }

    /// A non-streaming client that hangs up before its answer: the router cancels the upstream
    /// request, and the replica aborts the generation.
    @Test func aClientLeavingANonStreamingRequestAbortsItOnTheReplica() async throws {
        try await withReplicas(1) { servers, urls in
            let router = RouterServer(config: .init(backends: urls, routing: .leastLoaded))
            defer { Task { await router.shutdown() } }
            try await router.application().test(.live) { client in
                let fd = try connect(port: try #require(client.port))
                let body = #"{"prompt":"The capital of France is","max_tokens":4000,"ignore_eos":true}"#
                let request = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                _ = request.withCString { send(fd, $0, strlen($0), 0) }
                let engine = servers[0].engine
                let started = Date().addingTimeInterval(10)
                while engine.stats.numRunning == 0 && Date() < started { try await Task.sleep(for: .milliseconds(5)) }
                #expect(engine.stats.numRunning == 1, "the request never ran")
                close(fd)
                let deadline = Date().addingTimeInterval(10)
                while Date() < deadline && engine.stats.numRunning > 0 { try await Task.sleep(for: .milliseconds(20)) }
                let metrics = servers[0].metrics.render()
                #expect(metrics.contains(#"finished_reason="abort"} 1"#) && metrics.contains(#"finished_reason="length"} 0"#), "\(metrics)")
            }
        }
    }

    @Test func withNoReachableReplicaRequestsAndHealthAre503() async throws {
        let router = RouterServer(config: .init(backends: [unreachable], routing: .leastLoaded))
        defer { Task { await router.shutdown() } }
        try await Application(router: router.router()).test(.router) { client in
            let r = try await client.post("/v1/completions", #"{"prompt":"x"}"#)
            #expect(r.status == 503 && r.text.contains("no backend could be reached"), "\(r.text)")
            #expect(try await client.execute(uri: "/health", method: .get) { $0.status.code } == 503)
            let big = try await client.post("/v1/completions", #"{"prompt":""# + String(repeating: "a", count: 64 << 20) + #""}"#)
            #expect(big.status == 413 && big.text.contains("larger than the router's limit"))
        }
        await router.checkHealth()
        #expect(router.healthyBackends.isEmpty)
    }
}

func connect(port: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
    return fd
}
