import AsyncHTTPClient
import Foundation

/// Which OpenAI API a benchmark speaks, from the endpoint path.
public enum OpenAIAPI: String, Sendable, Codable {
    case completions, chat

    public init(endpoint: String) {
        self = endpoint.contains("chat/completions") ? .chat : .completions
    }
}

/// What one streamed request measured. Times are seconds.
public struct RequestResult: Sendable {
    public var success = false
    /// Why it failed, one line (nil when it succeeded).
    public var error: String?
    /// The prompt's length as the dataset built it (exact when the server could tokenize).
    public var promptTokens = 0
    /// `usage.prompt_tokens` from the server, when it sent usage.
    public var serverPromptTokens: Int?
    /// `usage.completion_tokens`, or the number of chunks that carried text when there was no usage.
    public var outputTokens = 0
    public var usageReported = false
    /// Time to the first chunk carrying text.
    public var ttft = 0.0
    /// Gaps between successive chunks carrying text.
    public var itl: [Double] = []
    /// End-to-end latency: request sent to stream ended.
    public var latency = 0.0
    /// When the request was sent, from the start of the run.
    public var startOffset = 0.0
    /// The output length asked for (`max_tokens`).
    public var requestedOutputTokens = 0

    public init() {}

    /// (E2EL − TTFT) / (output tokens − 1); nil with fewer than two tokens.
    public var tpot: Double? {
        outputTokens > 1 ? (latency - ttft) / Double(outputTokens - 1) : nil
    }
}

/// A thin client of an OpenAI-compatible server: async-http-client, JSON bodies, SSE streams.
public final class OpenAIClient: Sendable {
    public let baseURL: String
    let apiKey: String?
    let requestTimeout: Double
    let http: HTTPClient

    /// `maxConnections`: at least the most requests the benchmark will have in flight, so the
    /// client's pool never becomes the bottleneck being measured.
    public init(baseURL: String, apiKey: String? = nil, requestTimeout: Double = 3600, maxConnections: Int = 256) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.apiKey = apiKey
        self.requestTimeout = requestTimeout
        var config = HTTPClient.Configuration()
        config.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, maxConnections)
        // Fail at once when the server is not there, instead of retrying until the deadline.
        config.connectionPool.retryConnectionEstablishment = false
        config.timeout.connect = .seconds(10)
        config.decompression = .disabled
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    func url(_ path: String) -> String {
        path.hasPrefix("/") ? baseURL + path : baseURL + "/" + path
    }

    private func request(_ path: String, json: Any?) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url(path))
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        if let json {
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(try JSONSerialization.data(withJSONObject: json))
        } else {
            request.method = .GET
        }
        return request
    }

    /// One whole request: status and body. Transport failures throw.
    public func send(_ path: String, json: Any? = nil, timeout: Double? = nil) async throws -> (status: Int, body: Data) {
        let response = try await http.execute(try request(path, json: json), timeout: .milliseconds(Int64((timeout ?? requestTimeout) * 1000)))
        var body = Data()
        for try await buffer in response.body {
            body.append(contentsOf: buffer.readableBytesView)
            if body.count > 64 << 20 { throw BenchError("\(url(path)): response larger than 64 MiB") }
        }
        return (Int(response.status.code), body)
    }

    /// Is anything listening? A clear error when not; any HTTP answer (even 404) will do.
    public func checkReachable() async throws {
        do {
            _ = try await send("/v1/models", timeout: 30)
        } catch let error as BenchError {
            throw error
        } catch {
            throw BenchError("cannot reach the server at \(baseURL): \(Self.describe(error))")
        }
    }

    /// The served model names and max_model_len from `/v1/models`, when the server has it.
    public func models() async -> (names: [String], maxModelLen: Int?) {
        guard let (status, body) = try? await send("/v1/models", timeout: 30), status == 200,
              let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let data = json["data"] as? [[String: Any]] else { return ([], nil) }
        return (data.compactMap { $0["id"] as? String }, data.first?["max_model_len"] as? Int)
    }

    /// The request body vLLM's `bench serve` sends: greedy unless told, `ignore_eos` and
    /// `max_tokens` so every request generates exactly the output length asked for, usage in
    /// the last chunk.
    public static func body(api: OpenAIAPI, model: String, prompt: String, maxTokens: Int, ignoreEOS: Bool,
                            temperature: Double) -> [String: Any] {
        var body: [String: Any] = [
            "model": model, "stream": true, "stream_options": ["include_usage": true],
            "max_tokens": maxTokens, "ignore_eos": ignoreEOS, "temperature": temperature,
        ]
        switch api {
        case .completions:
            body["prompt"] = prompt
        case .chat:
            body["messages"] = [["role": "user", "content": prompt]]
            body["max_completion_tokens"] = maxTokens
        }
        return body
    }

    /// Sends one streaming request and measures it. Never throws: every failure is a result
    /// with its reason.
    public func stream(endpoint: String, api: OpenAIAPI, body: [String: Any]) async -> RequestResult {
        var result = RequestResult()
        let clock = ContinuousClock()
        let start = clock.now
        func seconds(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        do {
            let response = try await http.execute(try request(endpoint, json: body),
                                                  timeout: .milliseconds(Int64(requestTimeout * 1000)))
            let status = Int(response.status.code)
            guard status == 200 else {
                var text = Data()
                for try await buffer in response.body where text.count < 1 << 20 { text.append(contentsOf: buffer.readableBytesView) }
                result.error = "HTTP \(status): \(Self.errorMessage(text))"
                result.latency = seconds(clock.now - start)
                return result
            }
            var parser = SSEParser()
            var lastToken: ContinuousClock.Instant?
            var chunks = 0
            var done = false
            func handle(_ payload: String, at now: ContinuousClock.Instant) {
                if payload == "[DONE]" { done = true; return }
                guard result.error == nil else { return }
                guard let json = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else {
                    result.error = "a streamed event is not JSON: \(payload.prefix(120))"
                    return
                }
                if let error = json["error"] {
                    result.error = "error event: \(Self.message(of: error) ?? "\(error)")"
                    return
                }
                if let usage = json["usage"] as? [String: Any] {
                    if let n = usage["completion_tokens"] as? Int { result.outputTokens = n; result.usageReported = true }
                    if let n = usage["prompt_tokens"] as? Int { result.serverPromptTokens = n }
                }
                guard let choice = (json["choices"] as? [[String: Any]])?.first else { return }
                let text: String
                switch api {
                case .completions:
                    text = choice["text"] as? String ?? ""
                case .chat:
                    let delta = choice["delta"] as? [String: Any]
                    text = (delta?["content"] as? String ?? "") + (delta?["reasoning_content"] as? String ?? "")
                }
                guard !text.isEmpty else { return }
                chunks += 1
                if let last = lastToken {
                    result.itl.append(seconds(now - last))
                } else {
                    result.ttft = seconds(now - start)
                }
                lastToken = now
            }
            for try await buffer in response.body {
                let now = clock.now
                for payload in parser.feed(buffer.readableBytesView) { handle(payload, at: now) }
            }
            let end = clock.now
            for payload in parser.finish() { handle(payload, at: end) }
            result.latency = seconds(end - start)
            if !result.usageReported { result.outputTokens = chunks }
            if result.error == nil {
                if lastToken == nil {
                    result.error = "the stream carried no tokens"
                } else if !done {
                    result.error = "the stream ended without [DONE]"
                }
            }
            result.success = result.error == nil
        } catch {
            result.error = Self.describe(error)
            result.latency = seconds(clock.now - start)
        }
        return result
    }

    /// The message of an OpenAI (or FastAPI, or llama.cpp) error body, one line.
    static func errorMessage(_ body: Data) -> String {
        if let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
           let message = message(of: json["error"] ?? json) {
            return oneLine(message)
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return text.isEmpty ? "(empty body)" : oneLine(text)
    }

    static func message(of error: Any) -> String? {
        if let s = error as? String { return s }
        guard let dict = error as? [String: Any] else { return nil }
        for key in ["message", "detail", "error"] {
            if let s = dict[key] as? String { return s }
        }
        return nil
    }

    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// Transport errors as a person reads them.
    static func describe(_ error: any Error) -> String {
        let text = oneLine(String(describing: error))
        if text.contains("Connection refused") || text.contains("errno: 111") { return "connection refused" }
        if text.contains("connectTimeout") { return "connection timed out" }
        if text.contains("deadlineExceeded") { return "request timed out" }
        if text.contains("remoteConnectionClosed") { return "the server closed the connection" }
        return text
    }
}
