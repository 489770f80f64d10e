import Distributed
import Foundation
import Testing

/// Ranks as threads of one process, each with its own mapping of the segment: the same code
/// paths as separate processes, without spawning any.
@Suite struct ShmCommunicatorTests {
    static func segmentName() -> String { "/shardline-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }

    /// Runs `body(communicator)` on `world` threads, one per rank, and returns their results by rank.
    static func onRanks<T: Sendable>(_ world: Int, ringCapacity: Int = 1 << 16,
                                     _ body: @escaping @Sendable (ShmCommunicator) throws -> T) throws -> [T] {
        let name = segmentName()
        let root = try ShmCommunicator.create(name: name, worldSize: world, ringCapacity: ringCapacity)
        let comms = [root] + (try (1..<world).map { try ShmCommunicator.attach(name: name, rank: $0) })
        root.unlinkName()
        let results = ResultBox<T>(count: world)
        let group = DispatchGroup()
        for comm in comms {
            group.enter()
            Thread {
                results.set(comm.rank, Result { try body(comm) })
                group.leave()
            }.start()
        }
        group.wait()
        return try results.values.map { try $0!.get() }
    }

    @Test func messagesArriveInOrderAndLargerThanTheRing() throws {
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let got = try Self.onRanks(2) { comm -> [[UInt8]] in
            if comm.rank == 0 {
                try comm.sendMessage([1, 2, 3], to: 1)
                try comm.sendMessage(big, to: 1)
                try comm.sendMessage([], to: 1)
                return []
            }
            return [try comm.receiveMessage(from: 0), try comm.receiveMessage(from: 0), try comm.receiveMessage(from: 0)]
        }
        #expect(got[1] == [[1, 2, 3], big, []])
    }

    @Test func aParkedHandOffIsTimedOneWayByRankZero() throws {
        // Each side computes 20 ms before sending, far longer than the 250 us spin: every message
        // finds its receiver asleep. The one-way time is positive and well below the sender's
        // compute turn (a timing that took it in would read 20 ms or more).
        let hops = try Self.onRanks(3) { comm in
            try CollectivesBenchmark.parkedHandoff(comm, work: 0.02, iterations: 10).map { [$0.min, $0.median, $0.max] }
        }
        #expect(hops[1] == nil && hops[2] == nil)  // only rank 0 reports; rank 2 takes no part
        let h = try #require(hops[0])
        #expect(h[0] > 0 && h[0] <= h[1] && h[1] <= h[2])
        #expect(h[1] < 10_000, "median \(h[1]) us")
    }

    @Test(arguments: [2, 3, 4])
    func allReduceIsTheSumInGroupOrderOnEveryRank(world: Int) throws {
        let count = 40_000  // several chunks through a 64 KiB ring
        let got = try Self.onRanks(world) { comm -> [Float] in
            var values = (0..<count).map { Float($0 % 97) * 0.1 + Float(comm.rank) * 1.37 }
            try values.withUnsafeMutableBufferPointer { try comm.allReduceSum($0, group: Array(0..<world)) }
            return values
        }
        var expected = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let base = Float(i % 97) * 0.1
            var sum = base  // rank 0's value
            for r in 1..<world { sum += base + Float(r) * 1.37 }
            expected[i] = sum
        }
        for rank in 0..<world { #expect(got[rank] == expected, "rank \(rank)") }
    }

    @Test func subgroupsReduceIndependently() throws {
        // Two tensor-parallel groups of a 2×2 layout reduce at the same time.
        let got = try Self.onRanks(4) { comm -> [Float] in
            let group = comm.rank < 2 ? [0, 1] : [2, 3]
            var values = [Float](repeating: Float(comm.rank + 1), count: 1000)
            try values.withUnsafeMutableBufferPointer { try comm.allReduceSum($0, group: group) }
            return values
        }
        #expect(got[0] == [Float](repeating: 3, count: 1000) && got[1] == got[0])
        #expect(got[2] == [Float](repeating: 7, count: 1000) && got[3] == got[2])
    }

    @Test func gatherAllGatherBroadcastAndAllToAll() throws {
        let world = 3
        let got = try Self.onRanks(world) { comm -> [[Float]] in
            let group = Array(0..<world)
            let local = (0..<5).map { Float(comm.rank * 10 + $0) }
            var all = [Float](repeating: 0, count: 15)
            try local.withUnsafeBufferPointer { l in try all.withUnsafeMutableBufferPointer { try comm.allGather(l, into: $0, group: group) } }
            var root = [Float](repeating: 0, count: comm.rank == 2 ? 15 : 0)
            try local.withUnsafeBufferPointer { l in try root.withUnsafeMutableBufferPointer { try comm.gather(l, into: $0, root: 2, group: group) } }
            var bytes: [UInt8] = comm.rank == 1 ? [9, 8, 7] : [0, 0, 0]
            try bytes.withUnsafeMutableBytes { try comm.broadcast($0, root: 1, group: group) }
            let input = (0..<6).map { Float(comm.rank * 100 + $0) }  // chunks of 2
            var output = [Float](repeating: 0, count: 6)
            try input.withUnsafeBufferPointer { i in try output.withUnsafeMutableBufferPointer { try comm.allToAll(i, into: $0, group: group) } }
            return [all, root, bytes.map(Float.init), output]
        }
        let all = (0..<3).flatMap { r in (0..<5).map { Float(r * 10 + $0) } }
        for r in 0..<world {
            #expect(got[r][0] == all)
            #expect(got[r][2] == [9, 8, 7])
            var exchanged: [Float] = []
            for i in 0..<3 { exchanged += [Float(i * 100 + 2 * r), Float(i * 100 + 2 * r + 1)] }
            #expect(got[r][3] == exchanged)
        }
        #expect(got[2][1] == all)
    }

    @Test func aReceiveTimesOutInsteadOfHanging() throws {
        let got = try Self.onRanks(2) { comm -> String in
            guard comm.rank == 1 else { return "" }
            do {
                _ = try comm.receiveMessage(from: 0, timeout: 0.2)
                return "received"
            } catch {
                return "\(error)"
            }
        }
        #expect(got[1] == "no answer from worker rank 0 within 0 s")
    }

    @Test func aDeadPeerIsReportedWithinAMoment() throws {
        let got = try Self.onRanks(2) { comm -> String in
            guard comm.rank == 1 else { return "" }
            // A pid that cannot exist stands for a process that died.
            comm.setPid(Int32.max - 7, of: 0)
            let start = Date()
            do {
                _ = try comm.receiveMessage(from: 0, timeout: nil)
                return "received"
            } catch {
                return "\(error) after \(Date().timeIntervalSince(start) < 1 ? "<1 s" : "too long")"
            }
        }
        #expect(got[1] == "worker rank 0 died after <1 s")
    }
}

final class ResultBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Result<T, any Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<T, any Error>) { lock.lock(); values[i] = r; lock.unlock() }
}
