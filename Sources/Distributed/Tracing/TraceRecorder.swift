import Engine
import Foundation

/// A device's timeline: one slice per batch it computed. Times are CLOCK_MONOTONIC
/// nanoseconds, shared by every process on one machine.
public final class TraceRecorder: @unchecked Sendable {
    public struct Slice: Codable, Sendable, Equatable {
        public var batch: Int
        public var tokens: Int
        public var phase: String
        public var start: UInt64
        public var end: UInt64

        public init(batch: Int, tokens: Int, phase: String, start: UInt64, end: UInt64) {
            self.batch = batch
            self.tokens = tokens
            self.phase = phase
            self.start = start
            self.end = end
        }
    }

    /// One device's identity in the trace.
    public struct Track: Codable, Sendable, Equatable {
        public var rank: Int
        public var stage: Int
        public var tpRank: Int
        public var slices: [Slice]

        public init(rank: Int, stage: Int, tpRank: Int, slices: [Slice]) {
            self.rank = rank
            self.stage = stage
            self.tpRank = tpRank
            self.slices = slices
        }
    }

    public let rank: Int, stage: Int, tpRank: Int
    private let lock = NSLock()
    private var slices: [Slice] = []

    public init(rank: Int, stage: Int, tpRank: Int) {
        self.rank = rank
        self.stage = stage
        self.tpRank = tpRank
    }

    public func record(batch: SchedulerOutput, start: UInt64, end: UInt64) {
        let decodes = batch.requests.filter { $0.numTokens == 1 }.count
        let phase = decodes == batch.requests.count ? "decode" : decodes == 0 ? "prefill" : "mixed"
        lock.lock()
        slices.append(Slice(batch: batch.stepId, tokens: batch.totalTokens, phase: phase, start: start, end: end))
        lock.unlock()
    }

    public var track: Track {
        lock.lock()
        defer { lock.unlock() }
        return Track(rank: rank, stage: stage, tpRank: tpRank, slices: slices)
    }

    public static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
