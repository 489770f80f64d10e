import ArgumentParser
import Distributed
import Engine
import Foundation
import Logging
import ModelFormats
import Models
import Server

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over an OpenAI-compatible HTTP API.")

    @Option(name: .long, help: "Model directory (config.json, *.safetensors, tokenizer.json) or a .gguf file.")
    var model: String

    @Option(name: .long, help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on.")
    var port = 8000

    @Option(name: .customLong("served-model-name"), help: "Model name clients use (default: the model path).")
    var servedModelName: String?

    @Option(name: .customLong("api-key"), help: "Require `Authorization: Bearer KEY` on /v1 routes.")
    var apiKey: String?

    @Option(name: .customLong("chat-template"), help: "Jinja chat template file, overriding the model's.")
    var chatTemplate: String?

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        guard (1...65535).contains(port) else { throw CLIError("--port must be in 1...65535, got \(port)") }
    }

    func run() async throws {
        let logger = Logger(label: "shardline")
        let (llm, bundle) = try engine.launch(model: model, log: { logger.info("\($0)") })
        let chat: ChatTemplateRenderer?
        do {
            chat = try ChatTemplateRenderer.load(override: chatTemplate, modelTemplate: bundle.chatTemplate,
                                                 bosToken: bundle.bosToken, eosToken: bundle.eosToken)
        } catch {
            llm.core.executor.shutdown()
            throw CLIError("\(error)")
        }
        if chat == nil { logger.warning("no chat template found; /v1/chat/completions will answer 400 (use --chat-template)") }
        let name = servedModelName ?? model
        let metrics = ServerMetrics(modelName: name, log: { logger.info("\($0)") })
        let client = EngineClient(engine: llm, observer: metrics)
        var config = ServerConfig(servedModelName: name, modelPath: model, apiKey: apiKey)
        config.host = host
        config.port = port
        let server = OpenAIServer(engine: client, config: config, metrics: metrics, chat: chat)
        logger.info("Serving \(name) at http://\(host):\(port) (OpenAI API under /v1)")
        // A failed device (a dead worker) ends the server: requests in flight have their errors
        // and /health answers 503 for a moment, then the process exits non-zero.
        let watchdog = Task.detached {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                let dead = llm.core.executor.deadDevice
                guard !client.isHealthy || dead != nil else { continue }
                client.markUnhealthy()
                logger.error("the engine failed\(dead.map { ": " + $0 } ?? ""); shutting down")
                try? await Task.sleep(for: .seconds(2))
                llm.core.executor.shutdown()
                Foundation.exit(1)
            }
        }
        defer { watchdog.cancel() }
        try await server.application(logger: logger).runService()
        watchdog.cancel()
        llm.core.executor.shutdown()
    }
}
