import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A `shardline serve` child process on a random loopback port, started and waited for until
/// `/health` answers 200 (or the test fails). Killed when the test is done with it.
struct ServeProcess {
    let process: Process
    let port: UInt16

    init(_ arguments: [String]) throws {
        port = UInt16.random(in: 20_000...40_000)
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        process = Process()
        process.executableURL = bundleDir.appendingPathComponent("shardline")
        process.arguments = ["serve"] + arguments + ["--port", String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let ready = Date().addingTimeInterval(60)
        while (try? HTTP.request(port: port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").hasPrefix("HTTP/1.1 200")) != true {
            guard Date() < ready && process.isRunning else {
                kill()
                throw ServeProcessError.didNotComeUp
            }
            usleep(100_000)
        }
    }

    func kill() { if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) } }

    /// The server's direct children (its worker processes).
    var children: [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == process.processIdentifier
        }
    }
}

enum ServeProcessError: Error { case didNotComeUp }
