import Distributed
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Models
import Server
import Tokenizers

enum Fixtures {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
    static let tinyLlama = try! ModelLoader.load(directory: path("tiny-llama"))
}

/// A server over tiny-llama with a small KV cache, as the tests' application.
func makeServer(apiKey: String? = nil, chat: (any ChatPromptRenderer)? = nil, maxModelLen: Int = 256) throws -> OpenAIServer {
    var cache = CacheConfig()
    cache.kvCacheMemory = 8 << 20
    var scheduler = SchedulerConfig()
    scheduler.maxModelLen = maxModelLen
    let tokenizer = try BPETokenizer(directory: URL(fileURLWithPath: Fixtures.path("tiny-llama")))
    let llm = try LocalEngine.make(model: Fixtures.tinyLlama, tokenizer: tokenizer, cache: cache, scheduler: scheduler)
    let metrics = ServerMetrics(modelName: "tiny")
    var config = ServerConfig(servedModelName: "tiny", modelPath: Fixtures.path("tiny-llama"), apiKey: apiKey)
    config.port = 0
    return OpenAIServer(engine: EngineClient(engine: llm, observer: metrics), config: config, metrics: metrics, chat: chat)
}

extension TestClientProtocol {
    /// POSTs a JSON body; returns status and parsed JSON (nil if not JSON).
    func post(_ uri: String, _ json: String, headers: HTTPFields = [:]) async throws -> (status: Int, json: [String: Any]?, text: String) {
        var h = headers
        h[.contentType] = "application/json"
        return try await execute(uri: uri, method: .post, headers: h, body: ByteBuffer(string: json)) { response in
            let text = String(buffer: response.body)
            return (response.status.code, try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
        }
    }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> (status: Int, text: String) {
        try await execute(uri: uri, method: .get, headers: headers) { ($0.status.code, String(buffer: $0.body)) }
    }
}

/// The JSON objects of an SSE body, and whether it ended with `[DONE]`.
func parseEvents(_ body: String) -> (events: [[String: Any]], done: Bool) {
    var events: [[String: Any]] = []
    var done = false
    for line in body.split(separator: "\n") where line.hasPrefix("data: ") {
        let payload = line.dropFirst(6)
        if payload == "[DONE]" { done = true; continue }
        if let obj = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] { events.append(obj) }
    }
    return (events, done)
}
