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

    @Option(name: [.customLong("data-parallel-size"), .customLong("dp", withSingleDash: true)],
            help: "Engine replicas, each with its own TP × PP devices and KV cache, behind one router.")
    var dataParallelSize = 1

    @Option(name: .customLong("routing"), help: "How requests pick a replica: round-robin, least-loaded or prefix-aware.")
    var routing = RoutingPolicy.prefixAware.rawValue

    func validate() throws {
        guard (1...65535).contains(port) else { throw CLIError("--port must be in 1...65535, got \(port)") }
        guard dataParallelSize >= 1 else { throw CLIError("--data-parallel-size must be at least 1, got \(dataParallelSize)") }
        guard RoutingPolicy(rawValue: routing) != nil else {
            throw CLIError("--routing must be one of \(RoutingPolicy.allCases.map(\.rawValue).joined(separator: ", ")), got '\(routing)'")
        }
        if dataParallelSize > 1, engine.traceFile != nil {
            throw CLIError("--trace-file with --data-parallel-size > 1 is not supported yet")
        }
    }

    func run() async throws {
        let logger = Logger(label: "shardline")
        // Every replica loads its own weights on its own devices, as data parallel replicas on
        // separate GPUs would; replica 0's bundle gives the tokenizer and chat template.
        var launched: [LLMEngine] = []
        var first: ModelBundle?
        do {
            for replica in 0..<dataParallelSize {
                let prefix = dataParallelSize > 1 ? "[replica \(replica)] " : ""
                let (llm, loaded) = try engine.launch(model: model, replicas: dataParallelSize, log: { logger.info("\(prefix)\($0)") })
                launched.append(llm)
                first = first ?? loaded
            }
        } catch {
            launched.forEach { $0.core.executor.shutdown() }
            throw error
        }
        let engines = launched, bundle = first!
        let shutdownAll: @Sendable () -> Void = { engines.forEach { $0.core.executor.shutdown() } }
        let chat: ChatTemplateRenderer?
        do {
            chat = try ChatTemplateRenderer.load(override: chatTemplate, modelTemplate: bundle.chatTemplate,
                                                 bosToken: bundle.bosToken, eosToken: bundle.eosToken)
        } catch {
            shutdownAll()
            throw CLIError("\(error)")
        }
        if chat == nil { logger.warning("no chat template found; /v1/chat/completions will answer 400 (use --chat-template)") }
        let name = servedModelName ?? model
        let metrics = ServerMetrics(modelName: name, log: { logger.info("\($0)") })
        let client = EngineClient(engines: engines, routing: RoutingPolicy(rawValue: routing)!, observer: metrics)
        var config = ServerConfig(servedModelName: name, modelPath: model, apiKey: apiKey)
        config.host = host
        config.port = port
        let server = OpenAIServer(engine: client, config: config, metrics: metrics, chat: chat)
        logger.info("Serving \(name) at http://\(host):\(port) (OpenAI API under /v1)\(dataParallelSize > 1 ? ", \(dataParallelSize) replicas, \(routing) routing" : "")")
        // A failed device (a dead worker) ends the server: requests in flight have their errors
        // and /health answers 503 for a moment, then the process exits non-zero.
        let watchdog = Task.detached {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                let dead = engines.lazy.compactMap(\.core.executor.deadDevice).first
                guard !client.isHealthy || dead != nil else { continue }
                client.markUnhealthy()
                logger.error("the engine failed\(dead.map { ": " + $0 } ?? ""); shutting down")
                try? await Task.sleep(for: .seconds(2))
                shutdownAll()
                Foundation.exit(1)
            }
        }
        defer { watchdog.cancel() }
        try await server.application(logger: logger).runService()
        watchdog.cancel()
        shutdownAll()
    }
}
