import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `kill -9` of one worker while the server streams: the request ends with an error naming the
/// dead rank, /health turns 503, and the server exits non-zero within seconds. Nothing hangs.
@Suite(.serialized) struct DeadWorkerTests {
    @Test func killingAWorkerFailsTheRequestTurnsHealthTo503AndEndsTheServer() throws {
        let model = GenerateCommandTests.fixtures.appendingPathComponent("tiny-llama").path
        let serve = try ServeProcess(["--model", model, "-tp", "2", "--kv-cache-memory", "8MiB", "--max-model-len", "512"])
        defer { serve.kill() }
        let server = serve.process, port = serve.port
        let worker = try #require(serve.children.first, "no worker process")

        let body = #"{"prompt":"Once upon a time","max_tokens":480,"ignore_eos":true,"stream":true}"#
        let stream = try HTTP.connect(port: port)
        defer { close(stream) }
        try HTTP.send(stream, "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        var received = try HTTP.receive(stream, until: { $0.contains("data: {") })
        #expect(received.contains("data: {"), "no token before the kill: \(received)")
        kill(worker, SIGKILL)
        let killedAt = Date()
        received += try HTTP.receive(stream, until: { _ in false })
        #expect(received.contains("\"error\"") && received.contains("worker rank 1 died"), "\(received.suffix(400))")
        #expect(try HTTP.request(port: port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").hasPrefix("HTTP/1.1 503"))

        while server.isRunning && Date().timeIntervalSince(killedAt) < 15 { usleep(50_000) }
        #expect(!server.isRunning, "the server outlived its worker")
        if !server.isRunning { #expect(server.terminationStatus != 0) }
    }

}

/// Just enough HTTP/1.1 over a socket to watch a stream arrive chunk by chunk.
enum HTTP {
    static func connect(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        return fd
    }

    static func send(_ fd: Int32, _ text: String) throws {
        let bytes = Array(text.utf8)
        guard Glibc.send(fd, bytes, bytes.count, 0) == bytes.count else { throw POSIXError(.EPIPE) }
    }

    /// Reads until `done` holds for what arrived, the peer closes, or 20 s pass.
    static func receive(_ fd: Int32, until done: (String) -> Bool) throws -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data += buffer[0..<n]
            if done(String(decoding: data, as: UTF8.self)) { break }
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func request(port: UInt16, _ text: String) throws -> String {
        let fd = try connect(port: port)
        defer { close(fd) }
        try send(fd, text)
        return try receive(fd, until: { _ in false })
    }
}
