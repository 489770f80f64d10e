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
        let port = UInt16.random(in: 20_000...40_000)
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let server = Process()
        server.executableURL = bundleDir.appendingPathComponent("shardline")
        server.arguments = ["serve", "--model", model, "-dp", "2", "-tp", "2", "--routing", "round-robin", "--port", String(port),
                            "--kv-cache-memory", "8MiB", "--max-model-len", "512"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }

        let ready = Date().addingTimeInterval(60)
        while (try? HTTP.request(port: port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").hasPrefix("HTTP/1.1 200")) != true {
            try #require(Date() < ready && server.isRunning, "the server did not come up")
            usleep(100_000)
        }
        let workers = DeadWorkerTests().childProcesses(of: server.processIdentifier)
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
