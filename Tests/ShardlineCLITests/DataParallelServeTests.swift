import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Data parallel from the command line: `serve -dp` and `router`.
@Suite(.serialized) struct DataParallelServeTests {
    /// `serve -dp 2 -tp 2`: two replicas, each a group of two devices (a worker process per
    /// replica), answer with one device's greedy text, and every worker is gone when it stops.
    @Test func twoTensorParallelReplicasServeOneDevicesGreedyText() throws {
        let model = GenerateCommandTests.fixtures.appendingPathComponent("tiny-llama").path
        let serve = try ServeProcess(["--model", model, "-dp", "2", "-tp", "2", "--routing", "round-robin",
                                      "--kv-cache-memory", "8MiB", "--max-model-len", "512"])
        defer { serve.kill() }
        let server = serve.process, port = serve.port
        let workers = serve.children
        #expect(workers.count == 2, "one worker per replica: \(workers)")

        // Round-robin: the two requests go to different replicas; both give the fixture's text.
        let body = #"{"prompt":"The capital of France is","max_tokens":8,"temperature":0}"#
        for _ in 0..<2 {
            let response = try HTTP.request(port: port, "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
            #expect(response.hasPrefix("HTTP/1.1 200") && response.contains(#""text":"wwwheication\u001b\u001b\u001b""#), "\(response.suffix(300))")
        }
        kill(server.processIdentifier, SIGTERM)
        let stopping = Date()
        while server.isRunning && Date().timeIntervalSince(stopping) < 15 { usleep(50_000) }
        #expect(!server.isRunning)
        usleep(500_000)
        #expect(workers.allSatisfy { kill($0, 0) != 0 }, "a worker outlived the server")
    }

    /// serve -dp and router flags: one-line errors naming the flag, before anything loads.
    @Test(arguments: [
        (["serve", "--model", "x", "-dp", "0"], "--data-parallel-size must be at least 1, got 0"),
        (["serve", "--model", "x", "--routing", "random"], "--routing must be one of round-robin, least-loaded, prefix-aware, got 'random'"),
        (["serve", "--model", "x", "-dp", "2", "--trace-file", "t.json"], "--trace-file with --data-parallel-size > 1 is not supported yet"),
        (["router"], "--backend: give at least one replica URL"),
        (["router", "--backend", "10.0.0.2:8000"], "--backend '10.0.0.2:8000' is not an http:// or https:// URL"),
        (["router", "--backend", "http://a:1", "--routing", "sticky"], "--routing must be one of"),
        (["router", "--backend", "http://a:1", "--health-interval", "0"], "--health-interval and --request-timeout must be positive"),
    ])
    func badFlagsAreOneLineErrors(arguments: [String], message: String) throws {
        let result = try runShardline(arguments)
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains(message), "\(result.stderr)")
    }
}
