import Foundation

/// Chrome trace JSON (opens in Perfetto and chrome://tracing): one track per device, a complete
/// ("X") event per batch with its id, token count and phase; and the per-stage busy summary.
public enum ChromeTrace {
    public static func write(_ tracks: [TraceRecorder.Track], to path: String) throws {
        let origin = tracks.flatMap(\.slices).map(\.start).min() ?? 0
        var events: [[String: Any]] = []
        for t in tracks {
            events.append(["ph": "M", "name": "thread_name", "pid": 0, "tid": t.rank,
                           "args": ["name": "rank \(t.rank) · stage \(t.stage) · tp \(t.tpRank)"]])
            events.append(["ph": "M", "name": "thread_sort_index", "pid": 0, "tid": t.rank, "args": ["sort_index": t.rank]])
            for s in t.slices {
                events.append([
                    "ph": "X", "pid": 0, "tid": t.rank, "cat": s.phase,
                    "name": "batch \(s.batch) (\(s.tokens) tok)",
                    "ts": Double(s.start - origin) / 1000, "dur": Double(s.end - s.start) / 1000,
                    "args": ["batch": s.batch, "tokens": s.tokens, "phase": s.phase, "stage": t.stage, "tp_rank": t.tpRank],
                ])
            }
        }
        events.insert(["ph": "M", "name": "process_name", "pid": 0, "args": ["name": "shardline"]], at: 0)
        let data = try JSONSerialization.data(withJSONObject: ["traceEvents": events, "displayTimeUnit": "ms"], options: [.sortedKeys])
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// Reads back what `write` produced (or any trace with the same args).
    public static func read(_ path: String) throws -> [TraceRecorder.Track] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let events = root["traceEvents"] as? [[String: Any]] else {
            throw TraceError.malformed(path: path, reason: "no traceEvents array")
        }
        var tracks: [Int: TraceRecorder.Track] = [:]
        for e in events where e["ph"] as? String == "X" {
            guard let rank = e["tid"] as? Int, let ts = e["ts"] as? Double, let dur = e["dur"] as? Double,
                  let args = e["args"] as? [String: Any], let stage = args["stage"] as? Int else {
                throw TraceError.malformed(path: path, reason: "a slice without tid, ts, dur or args.stage")
            }
            let start = UInt64(ts * 1000)
            tracks[rank, default: TraceRecorder.Track(rank: rank, stage: stage, tpRank: args["tp_rank"] as? Int ?? 0, slices: [])]
                .slices.append(TraceRecorder.Slice(batch: args["batch"] as? Int ?? -1, tokens: args["tokens"] as? Int ?? 0,
                                                   phase: args["phase"] as? String ?? "", start: start, end: start + UInt64(dur * 1000)))
        }
        return tracks.values.sorted { $0.rank < $1.rank }
    }

    public struct StageBusy: Sendable, Equatable {
        public var stage: Int
        /// Busy fraction (0...1) over the steady-state window, averaged over the stage's ranks.
        public var busy: Double
        public var batches: Int
        public var meanTokens: Double
    }

    /// Busy fraction per stage over the steady state: from the moment every device has started
    /// its first batch to the moment the first device finished its last (ramp-up and drain,
    /// where a pipeline cannot be full, are left out).
    public static func summary(_ tracks: [TraceRecorder.Track]) -> (window: Double, stages: [StageBusy]) {
        let active = tracks.filter { !$0.slices.isEmpty }
        guard !active.isEmpty else { return (0, []) }
        let from = active.map { $0.slices.map(\.start).min()! }.max()!
        let to = active.map { $0.slices.map(\.end).max()! }.min()!
        guard to > from else { return (0, []) }
        let window = Double(to - from)
        var result: [StageBusy] = []
        for stage in Set(active.map(\.stage)).sorted() {
            let members = active.filter { $0.stage == stage }
            let busy = members.map { t in
                t.slices.reduce(0.0) { acc, s in acc + Double(max(0, Int64(min(s.end, to)) - Int64(max(s.start, from)))) } / window
            }
            let inWindow = members[0].slices.filter { $0.end > from && $0.start < to }
            result.append(StageBusy(stage: stage, busy: busy.reduce(0, +) / Double(busy.count), batches: inWindow.count,
                                    meanTokens: inWindow.isEmpty ? 0 : Double(inWindow.map(\.tokens).reduce(0, +)) / Double(inWindow.count)))
        }
        return (window / 1e9, result)
    }

    public static func summaryText(_ tracks: [TraceRecorder.Track]) -> String {
        let (window, stages) = summary(tracks)
        var lines = [String(format: "steady-state window: %.3f s", window)]
        for s in stages {
            lines.append(String(format: "stage %d: busy %5.1f%%, %d batches, %.1f tokens per batch", s.stage, s.busy * 100, s.batches, s.meanTokens))
        }
        return lines.joined(separator: "\n")
    }
}

public enum TraceError: Error, CustomStringConvertible {
    case malformed(path: String, reason: String)
    public var description: String {
        switch self { case .malformed(let path, let reason): "\(path): not a Shardline trace (\(reason))" }
    }
}
