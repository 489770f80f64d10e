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
