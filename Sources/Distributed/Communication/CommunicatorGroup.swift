import Compute
import Foundation

/// A tensor-parallel group over a communicator, as a model sees it. The first failure (a dead
/// peer) is kept and every later collective returns at once; the runner throws it after the pass.
public final class CommunicatorGroup: TensorParallelGroup, @unchecked Sendable {
    public let communicator: any Communicator
    /// World ranks of the members, in group order.
    public let members: [Int]
    public let rank: Int
    private let lock = NSLock()
    private var firstFailure: (any Error)?

    public init(communicator: any Communicator, members: [Int]) {
        self.communicator = communicator
        self.members = members
        rank = members.firstIndex(of: communicator.rank)!
    }

    public var size: Int { members.count }
    public var failure: (any Error)? { lock.lock(); defer { lock.unlock() }; return firstFailure }

    private func guarded(_ body: () throws -> Void) {
        guard failure == nil else { return }
        do { try body() } catch {
            lock.lock()
            if firstFailure == nil { firstFailure = error }
            lock.unlock()
        }
    }

    public func allReduceSum(_ t: Tensor) {
        guarded { try communicator.allReduceSum(UnsafeMutableBufferPointer(start: t.data, count: t.count), group: members) }
    }

    public func gatherColumns(_ local: Tensor, totalColumns: Int) -> Tensor? {
        let rows = local.rowCount
        let widths = (0..<size).map { totalColumns / size + ($0 < totalColumns % size ? 1 : 0) }
        let padded = widths[0]
        // Pad to equal slices so the transport moves one fixed size from every member.
        let send = local.rowLength == padded ? local : {
            let p = Tensor(zeros: [rows, padded])
            for r in 0..<rows { p.row(r).update(from: local.row(r), count: local.rowLength) }
            return p
        }()
        let gathered = Tensor(zeros: rank == 0 ? [size, rows, padded] : [0])
        guarded {
            try communicator.gather(UnsafeBufferPointer(start: send.data, count: send.count),
                                    into: UnsafeMutableBufferPointer(start: gathered.data, count: gathered.count),
                                    root: members[0], group: members)
        }
        guard rank == 0 else { return nil }
        let out = Tensor(zeros: [rows, totalColumns])
        var column = 0
        for (member, width) in widths.enumerated() {
            for r in 0..<rows {
                (out.row(r) + column).update(from: gathered.data + (member * rows + r) * padded, count: width)
            }
            column += width
        }
        return out
    }
}
