import Engine
import Foundation
import Hummingbird
import Logging

public struct ServerConfig: Sendable {
    public var servedModelName: String
    /// Where the model was loaded from (reported as `root` by /v1/models).
    public var modelPath: String
    public var apiKey: String?
    public var host = "127.0.0.1"
    public var port = 8000

    public init(servedModelName: String, modelPath: String, apiKey: String? = nil) {
        self.servedModelName = servedModelName
        self.modelPath = modelPath
        self.apiKey = apiKey
    }
}

/// Turns chat messages into the model's prompt text (a chat template).
public protocol ChatPromptRenderer: Sendable {
    func render(messages: [(role: String, content: String)], addGenerationPrompt: Bool, continueFinalMessage: Bool) throws -> String
}

/// The OpenAI-compatible HTTP front: vLLM's routes over an `EngineClient`.
public final class OpenAIServer: Sendable {
    public static let version = "0.1.0"
    public let engine: EngineClient
    public let config: ServerConfig
    public let metrics: ServerMetrics
    let chat: (any ChatPromptRenderer)?

    public init(engine: EngineClient, config: ServerConfig, metrics: ServerMetrics, chat: (any ChatPromptRenderer)?) {
        self.engine = engine
        self.config = config
        self.metrics = metrics
        self.chat = chat
    }

    public func router() -> Router<ServerRequestContext> {
        let router = Router(context: ServerRequestContext.self)
        router.add(middleware: OpenAIErrorMiddleware())
        router.get("health") { _, _ in
            self.engine.isHealthy ? Response(status: .ok) : OpenAIError(.serviceUnavailable, "the engine is not running").response
        }
        router.get("version") { _, _ in self.json(["version": Self.version]) }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: self.metrics.render())))
        }
        router.post("tokenize") { request, context in try self.tokenize(try await self.body(request, context)) }
        router.post("detokenize") { request, context in try self.detokenize(try await self.body(request, context)) }
        let v1 = router.group("v1")
        if let key = config.apiKey { v1.add(middleware: APIKeyMiddleware(key: key)) }
        v1.get("models") { _, _ in self.models() }
        v1.post("completions") { request, context in
            try await CompletionsRoute(server: self).handle(try await self.body(request, context), clientConnected: await context.clientConnected())
        }
        v1.post("chat/completions") { request, context in
            try await ChatCompletionsRoute(server: self).handle(try await self.body(request, context), clientConnected: await context.clientConnected())
        }
        return router
    }

    public func application(logger: Logger = Logger(label: "shardline.server")) -> some ApplicationProtocol {
        Application(router: router(), server: .http1(configuration: .init(additionalChannelHandlers: [ClientCloseWatcher()])),
                    configuration: .init(address: .hostname(config.host, port: config.port), serverName: "shardline"), logger: logger)
    }

    // MARK: helpers the routes share

    /// The largest request body read; a larger one gets 413.
    static let maxBodyBytes = 64 << 20

    func body(_ request: Request, _ context: ServerRequestContext) async throws -> Data {
        guard engine.isHealthy else { throw OpenAIError(.serviceUnavailable, "the engine is not running") }
        let buffer = try await request.body.collect(upTo: Self.maxBodyBytes)
        return Data(buffer: buffer)
    }

    func checkModel(_ name: String?) throws {
        if let name, name != config.servedModelName {
            throw OpenAIError(.notFound, "The model `\(name)` does not exist.", type: "NotFoundError", param: "model")
        }
    }

    func renderChat(_ messages: [ChatMessage], addGenerationPrompt: Bool, continueFinalMessage: Bool) throws -> String {
        guard let chat else {
            throw OpenAIError.badRequest("this model has no chat template; start the server with --chat-template FILE")
        }
        if continueFinalMessage && addGenerationPrompt {
            throw OpenAIError.badRequest("continue_final_message and add_generation_prompt cannot both be true")
        }
        do {
            return try chat.render(messages: messages.map { ($0.role, $0.content) }, addGenerationPrompt: addGenerationPrompt,
                                   continueFinalMessage: continueFinalMessage)
        } catch let error as OpenAIError {
            throw error
        } catch {
            throw OpenAIError.badRequest("chat template error: \(error)", param: "messages")
        }
    }

    func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: OpenAIResponses.json(object))))
    }

    /// An SSE response: `produce` sends events; `[DONE]` follows. A failure mid-stream is sent as
    /// an error event, since the status line has already gone out.
    func eventStream(_ produce: @escaping @Sendable (_ send: (Any) async throws -> Void) async throws -> Void) -> Response {
        Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: .init { writer in
            do {
                try await produce { object in try await writer.write(ByteBuffer(bytes: ServerSentEvents.event(object))) }
            } catch let error as OpenAIError {
                try await writer.write(ByteBuffer(bytes: ServerSentEvents.event(["error": ["message": error.message, "type": error.type, "code": error.status.code]])))
            } catch let error as EngineError {
                let (type, code) = if case .executionFailed = error { ("InternalServerError", 500) } else { ("BadRequestError", 400) }
                try await writer.write(ByteBuffer(bytes: ServerSentEvents.event(["error": ["message": error.description, "type": type, "code": code]])))
            }
            try await writer.write(ByteBuffer(bytes: ServerSentEvents.done))
            try await writer.finish(nil)
        })
    }

    private func models() -> Response {
        json(["object": "list", "data": [[
            "id": config.servedModelName, "object": "model", "created": OpenAIResponses.now, "owned_by": "shardline",
            "root": config.modelPath, "parent": NSNull(), "max_model_len": engine.maxModelLen,
        ]]])
    }

    private func tokenize(_ body: Data) throws -> Response {
        struct TokenizeRequest: Decodable {
            var model: String?
            var prompt: String?
            var messages: [ChatMessage]?
            var add_special_tokens: Bool?
            var add_generation_prompt: Bool?
        }
        let req = try RequestBodyDecoder.decode(TokenizeRequest.self, from: body)
        try checkModel(req.model)
        let tokens: [Int]
        if let prompt = req.prompt {
            tokens = engine.tokenizer.encode(prompt, addSpecialTokens: req.add_special_tokens ?? true)
        } else if let messages = req.messages {
            let text = try renderChat(messages, addGenerationPrompt: req.add_generation_prompt ?? true, continueFinalMessage: false)
            tokens = engine.tokenizer.encode(text, addSpecialTokens: req.add_special_tokens ?? false)
        } else {
            throw OpenAIError.badRequest("give either prompt or messages", param: "prompt")
        }
        return json(["count": tokens.count, "max_model_len": engine.maxModelLen, "tokens": tokens])
    }

    private func detokenize(_ body: Data) throws -> Response {
        struct DetokenizeRequest: Decodable {
            var model: String?
            var tokens: [Int]
        }
        let req = try RequestBodyDecoder.decode(DetokenizeRequest.self, from: body)
        try checkModel(req.model)
        try checkTokenIds(req.tokens, vocabSize: engine.vocabSize)
        return json(["prompt": engine.tokenizer.decode(req.tokens)])
    }
}

/// `--api-key`: every /v1 route wants `Authorization: Bearer <key>`, as vLLM does.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.headers[.authorization] == "Bearer \(key)" else {
            return OpenAIError(.unauthorized, "Unauthorized: a valid API key is required (Authorization: Bearer <key>)").response
        }
        return try await next(request, context)
    }
}
