import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A client that hangs up mid-stream must not leave its request running.
@Suite struct DisconnectTests {
    @Test func hangingUpMidStreamAbortsAndFreesBlocks() async throws {
        let server = try makeServer(maxModelLen: 4096)
        let app = Application(router: server.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let body = #"{"prompt":"The capital of France is","max_tokens":4000,"ignore_eos":true,"stream":true}"#
            let fd = try connectLoopback(port: port)
            let request = "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            _ = request.withCString { send(fd, $0, strlen($0), 0) }
            // Read until the first event arrives: the request is running.
            var received = ""
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !received.contains("data: ") {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { break }
                received += String(decoding: buffer[0..<n], as: UTF8.self)
            }
            #expect(received.contains("200 OK") && received.contains("data: "))
            close(fd)
            try await expectOneAbortAndNothingHeld(server)
            // The server keeps serving.
            #expect(try await client.post("/v1/completions", #"{"prompt":"ok","max_tokens":2}"#).status == 200)
        }
    }
}

extension DisconnectTests {
    /// A non-streaming request writes nothing until it ends; its client closing the connection
    /// must still abort it (the server's pipeline watches for the end of the client's input).
    @Test func closingTheConnectionAbortsANonStreamingRequest() async throws {
        let server = try makeServer(maxModelLen: 4096)
        try await server.application().test(.live) { client in
            let port = try #require(client.port)
            let body = #"{"prompt":"The capital of France is","max_tokens":4000,"ignore_eos":true}"#
            let fd = try connectLoopback(port: port)
            let request = "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            _ = request.withCString { send(fd, $0, strlen($0), 0) }
            let started = Date().addingTimeInterval(10)
            while server.engine.stats.numRunning == 0 && Date() < started { try await Task.sleep(for: .milliseconds(5)) }
            #expect(server.engine.stats.numRunning == 1, "the request never ran")
            close(fd)
            try await expectOneAbortAndNothingHeld(server)
            // A client that stays connected is served to the end.
            #expect(try await client.post("/v1/completions", #"{"prompt":"ok","max_tokens":2}"#).status == 200)
        }
    }
}

/// Within 10 s the server holds nothing (no running request, no KV block), and its one request
/// ended as an abort, not by reaching its length.
func expectOneAbortAndNothingHeld(_ server: OpenAIServer, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline && (server.engine.stats.numRunning > 0 || server.engine.stats.kvCacheUsage > 0) {
        try await Task.sleep(for: .milliseconds(20))
    }
    #expect(server.engine.stats.numRunning == 0 && server.engine.stats.kvCacheUsage == 0, sourceLocation: sourceLocation)
    let metrics = server.metrics.render()
    #expect(metrics.contains(#"shardline:request_success_total{model_name="tiny",finished_reason="abort"} 1"#), "\(metrics)",
            sourceLocation: sourceLocation)
    #expect(metrics.contains(#"shardline:request_success_total{model_name="tiny",finished_reason="length"} 0"#),
            sourceLocation: sourceLocation)
}

func connectLoopback(port: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
    return fd
}
