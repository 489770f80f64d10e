import Bench
import Distributed
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Models
import Server
import Testing
import Tokenizers
#if canImport(Glibc)
import Glibc
#endif

enum Fixtures {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
    static let tinyLlama = try! ModelLoader.load(directory: path("tiny-llama"))
}

/// A trivial chat template, so the chat endpoint can be benchmarked on the fixture model.
struct PlainChat: ChatPromptRenderer {
    func render(messages: [(role: String, content: String)], addGenerationPrompt: Bool, continueFinalMessage: Bool) throws -> String {
        messages.map { "\($0.role): \($0.content)" }.joined(separator: "\n") + (addGenerationPrompt ? "\nassistant:" : "")
    }
}

/// A real Shardline server over tiny-llama (served as "tiny") on a free local port, for the
/// length of `body`, which gets its base URL.
func withLiveServer<T: Sendable>(maxModelLen: Int = 256, _ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
    var cache = CacheConfig()
    cache.kvCacheMemory = 8 << 20
    var scheduler = SchedulerConfig()
    scheduler.maxModelLen = maxModelLen
    let tokenizer = try BPETokenizer(directory: URL(fileURLWithPath: Fixtures.path("tiny-llama")))
    let llm = try LocalEngine.make(model: Fixtures.tinyLlama, tokenizer: tokenizer, cache: cache, scheduler: scheduler)
    let metrics = ServerMetrics(modelName: "tiny")
    var config = ServerConfig(servedModelName: "tiny", modelPath: Fixtures.path("tiny-llama"))
    config.port = 0
    let server = OpenAIServer(engine: EngineClient(engine: llm, observer: metrics), config: config, metrics: metrics, chat: PlainChat())
    let app = Application(router: server.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    return try await app.test(.live) { client in
        let port = try #require(client.port)
        return try await body("http://127.0.0.1:\(port)")
    }
}

/// A small benchmark of the fixture server.
func tinyConfig(_ url: String, prompts: Int = 4, input: Int = 12, output: Int = 6) -> BenchConfig {
    var c = BenchConfig()
    c.baseURL = url
    c.model = "tiny"
    c.dataset.numPrompts = prompts
    c.dataset.inputLen = input
    c.dataset.outputLen = output
    c.dataset.seed = 7
    return c
}

/// A local port nothing listens on: bound, read back, closed.
func closedPort() throws -> Int {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard ok else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: addr.sin_port))
}

func scratchFile(_ name: String, _ contents: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try contents.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}
