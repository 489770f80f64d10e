import Foundation

/// All-reduce latency between ranks, as `shardline bench-collectives` reports it: every rank
/// runs the same loop; rank 0 times it. Warm-up rounds first, then `iterations` timed rounds;
/// min / median / max microseconds per all-reduce.
public enum CollectivesBenchmark {
    public struct Row: Sendable {
        public var bytes: Int
        public var microseconds: (min: Double, median: Double, max: Double)
    }

    public static func run(_ comm: any Communicator, sizes: [Int], iterations: Int) throws -> [Row] {
        let group = Array(0..<comm.worldSize)
        var rows: [Row] = []
        for bytes in sizes {
            var values = [Float](repeating: 1, count: max(1, bytes / 4))
            var times: [Double] = []
            for i in 0..<(iterations + 10) {
                let start = DispatchTime.now().uptimeNanoseconds
                try values.withUnsafeMutableBufferPointer { try comm.allReduceSum($0, group: group) }
                if i >= 10 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000) }
            }
            times.sort()
            rows.append(Row(bytes: bytes, microseconds: (times.first!, times[times.count / 2], times.last!)))
        }
        return rows
    }

    /// One-way latency of a pipeline hand-off, in µs (min / median / max): ranks 0 and 1 take
    /// turns computing for `work` seconds and then sending `bytes`, so each message finds its
    /// receiver parked (a wait outlasts the spin and sleeps on a futex), as a stage waiting for
    /// the previous one, or the engine waiting for the last stage's tokens, is. A message carries
    /// its send time; the receiver subtracts it from its own clock (the monotonic clock is the
    /// same in every process). Rank 0 returns the hops it received; other ranks return nil.
    public static func parkedHandoff(_ comm: any Communicator, bytes: Int = 8 << 10, work: Double = 2e-3,
                                     iterations: Int) throws -> (min: Double, median: Double, max: Double)? {
        guard comm.worldSize >= 2, comm.rank < 2 else { return nil }
        let peer = 1 - comm.rank
        var message = [UInt8](repeating: 0, count: max(8, bytes))
        var hops: [Double] = []
        func compute() {
            let until = DispatchTime.now().uptimeNanoseconds + UInt64(work * 1e9)
            while DispatchTime.now().uptimeNanoseconds < until {}
        }
        func send() throws {
            compute()
            let sent = DispatchTime.now().uptimeNanoseconds
            message.withUnsafeMutableBytes { $0.storeBytes(of: sent, as: UInt64.self) }
            try comm.sendMessage(message, to: peer)
        }
        func receive(record: Bool) throws {
            let reply = try comm.receiveMessage(from: peer, timeout: 60)
            let now = DispatchTime.now().uptimeNanoseconds
            guard reply.count >= 8 else { throw CommunicatorError.protocolViolation("a hand-off of \(reply.count) bytes") }
            let sent = reply.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            if record { hops.append(Double(now &- sent) / 1000) }
        }
        for i in 0..<(iterations + 5) {
            if comm.rank == 0 {
                try send()
                try receive(record: i >= 5)
            } else {
                try receive(record: false)
                try send()
            }
        }
        guard comm.rank == 0 else { return nil }
        hops.sort()
        return (hops.first!, hops[hops.count / 2], hops.last!)
    }

    public static func table(_ rows: [Row], backend: String, ranks: Int) -> String {
        var lines = ["all-reduce, \(backend), \(ranks) ranks: min / median / max µs"]
        for r in rows {
            lines.append(String(format: "%10@  %8.1f  %8.1f  %8.1f", KVCacheBudgetBytes.human(r.bytes) as NSString,
                                r.microseconds.min, r.microseconds.median, r.microseconds.max))
        }
        return lines.joined(separator: "\n")
    }
}

enum KVCacheBudgetBytes {
    static func human(_ n: Int) -> String {
        n >= 1 << 20 ? "\(n >> 20) MiB" : n >= 1 << 10 ? "\(n >> 10) KiB" : "\(n) B"
    }
}
