import ArgumentParser
import Engine
import Foundation
import Logging
import Router

struct RouterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router",
        abstract: "Route OpenAI requests over `shardline serve` replicas on several machines (data parallel).")

    @Option(name: .customLong("backend"), help: "A replica's base URL, e.g. http://10.0.0.2:8000; repeat for each.")
    var backends: [String] = []

    @Option(name: .customLong("routing"), help: "How requests pick a replica: round-robin, least-loaded or prefix-aware.")
    var routing = RoutingPolicy.prefixAware.rawValue

    @Option(name: .long, help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on.")
    var port = 8080

    @Option(name: .customLong("health-interval"), help: "Seconds between health checks of every replica.")
    var healthInterval = 5.0

    @Option(name: .customLong("request-timeout"), help: "Seconds a request may take on a replica.")
    var requestTimeout = 3600.0

    func validate() throws {
        guard !backends.isEmpty else { throw CLIError("--backend: give at least one replica URL") }
        for url in backends where URL(string: url)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            throw CLIError("--backend '\(url)' is not an http:// or https:// URL")
        }
        guard RoutingPolicy(rawValue: routing) != nil else {
            throw CLIError("--routing must be one of \(RoutingPolicy.allCases.map(\.rawValue).joined(separator: ", ")), got '\(routing)'")
        }
        guard (1...65535).contains(port) else { throw CLIError("--port must be in 1...65535, got \(port)") }
        guard healthInterval > 0, requestTimeout > 0 else { throw CLIError("--health-interval and --request-timeout must be positive") }
    }

    func run() async throws {
        let logger = Logger(label: "shardline")
        var config = RouterServer.Config(backends: backends, routing: RoutingPolicy(rawValue: routing)!)
        config.host = host
        config.port = port
        config.healthInterval = healthInterval
        config.requestTimeout = requestTimeout
        let server = RouterServer(config: config)
        await server.checkHealth()
        logger.info("Routing http://\(host):\(port) over \(backends.count) replicas (\(routing)); healthy now: \(server.healthyBackends.count)")
        let health = Task { await server.runHealthChecks() }
        defer { health.cancel() }
        try await server.application(logger: logger).runService()
        health.cancel()
        await server.shutdown()
    }
}
