import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `serve -dp 2 -tp 2`: two replicas, each a group of two devices (a worker process per replica),
/// answer with one device's greedy text, and every worker is gone when the server stops.
@Suite(.serialized) struct DataParallelServeTests {
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
}
