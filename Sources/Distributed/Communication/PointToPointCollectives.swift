import ShardlineKernels

/// Collectives built from send/receive, for transports without their own (shared memory).
/// Transfers go in chunks no larger than half a channel, so every member can post its chunk
/// before reading the others' without filling a channel and waiting on a reader that waits on it.
public protocol PointToPointCollectives: Communicator {
    /// Largest chunk, in floats, sent before the matching receives.
    var chunkFloats: Int { get }
}

extension PointToPointCollectives {
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>, group: [Int]) throws {
        try allReduceByExchange(values, group: group)
    }

    /// Every member sends its chunk to every other, then sums all chunks in group order.
    public func allReduceByExchange(_ values: UnsafeMutableBufferPointer<Float>, group: [Int]) throws {
        guard group.count > 1, values.count > 0 else { return }
        if group.count == 2 {
            // Two addends: a + b == b + a exactly, so each member adds its peer's chunk in place.
            let peer = group[0] == rank ? group[1] : group[0]
            let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: min(values.count, chunkFloats))
            defer { scratch.deallocate() }
            var start = 0
            while start < values.count {
                let n = min(chunkFloats, values.count - start)
                try sendFloats(UnsafeBufferPointer(rebasing: values[start..<(start + n)]), to: peer)
                try receiveFloats(into: UnsafeMutableBufferPointer(rebasing: scratch[0..<n]), from: peer)
                sl_axpy_f32(values.baseAddress! + start, scratch.baseAddress!, 1, n)
                start += n
            }
            return
        }
        let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: min(values.count, chunkFloats))
        let sum = UnsafeMutableBufferPointer<Float>.allocate(capacity: min(values.count, chunkFloats))
        defer { scratch.deallocate(); sum.deallocate() }
        var start = 0
        while start < values.count {
            let n = min(chunkFloats, values.count - start)
            let mine = UnsafeMutableBufferPointer(rebasing: values[start..<(start + n)])
            for peer in group where peer != rank { try sendFloats(UnsafeBufferPointer(mine), to: peer) }
            // Sum in group order on every member, so all members get bit-identical results.
            for (i, member) in group.enumerated() {
                let part: UnsafeMutableBufferPointer<Float>
                if member == rank {
                    part = mine
                } else {
                    part = UnsafeMutableBufferPointer(rebasing: scratch[0..<n])
                    try receiveFloats(into: part, from: member)
                }
                if i == 0 {
                    _ = UnsafeMutableBufferPointer(rebasing: sum[0..<n]).update(fromContentsOf: part)
                } else {
                    sl_axpy_f32(sum.baseAddress!, part.baseAddress!, 1, n)
                }
            }
            _ = mine.update(fromContentsOf: UnsafeMutableBufferPointer(rebasing: sum[0..<n]))
            start += n
        }
    }

    public func allGather(_ local: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>, group: [Int]) throws {
        precondition(out.count == local.count * group.count, "allGather: output holds \(out.count), expected \(local.count * group.count)")
        let me = group.firstIndex(of: rank)!
        var start = 0
        while start < local.count {
            let n = min(chunkFloats, local.count - start)
            let mine = UnsafeBufferPointer(rebasing: local[start..<(start + n)])
            for peer in group where peer != rank { try sendFloats(mine, to: peer) }
            for (i, member) in group.enumerated() {
                let dst = UnsafeMutableBufferPointer(rebasing: out[(i * local.count + start)..<(i * local.count + start + n)])
                if i == me { _ = dst.update(fromContentsOf: mine) } else { try receiveFloats(into: dst, from: member) }
            }
            start += n
        }
    }

    public func gather(_ local: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>, root: Int, group: [Int]) throws {
        guard rank == root else {
            try sendFloats(local, to: root)
            return
        }
        precondition(out.count == local.count * group.count, "gather: output holds \(out.count), expected \(local.count * group.count)")
        for (i, member) in group.enumerated() {
            let dst = UnsafeMutableBufferPointer(rebasing: out[(i * local.count)..<((i + 1) * local.count)])
            if member == rank { _ = dst.update(fromContentsOf: local) } else { try receiveFloats(into: dst, from: member) }
        }
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int, group: [Int]) throws {
        if rank == root {
            for peer in group where peer != rank { try send(UnsafeRawBufferPointer(bytes), to: peer) }
        } else {
            try receive(into: bytes, from: root)
        }
    }

    public func allToAll(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>, group: [Int]) throws {
        let chunk = input.count / group.count
        precondition(input.count == chunk * group.count && output.count == input.count, "allToAll: \(input.count) floats do not split into \(group.count) equal chunks")
        guard chunk <= chunkFloats else {
            // Large exchanges go through allGather's chunking: each member keeps its column.
            let all = UnsafeMutableBufferPointer<Float>.allocate(capacity: input.count * group.count)
            defer { all.deallocate() }
            try allGather(input, into: all, group: group)
            let me = group.firstIndex(of: rank)!
            for i in group.indices {
                let src = UnsafeMutableBufferPointer(rebasing: all[(i * input.count + me * chunk)..<(i * input.count + (me + 1) * chunk)])
                _ = UnsafeMutableBufferPointer(rebasing: output[(i * chunk)..<((i + 1) * chunk)]).update(fromContentsOf: src)
            }
            return
        }
        let me = group.firstIndex(of: rank)!
        for (j, peer) in group.enumerated() where peer != rank {
            try sendFloats(UnsafeBufferPointer(rebasing: input[(j * chunk)..<((j + 1) * chunk)]), to: peer)
        }
        for (i, member) in group.enumerated() {
            let dst = UnsafeMutableBufferPointer(rebasing: output[(i * chunk)..<((i + 1) * chunk)])
            if i == me {
                _ = dst.update(fromContentsOf: UnsafeBufferPointer(rebasing: input[(me * chunk)..<((me + 1) * chunk)]))
            } else {
                try receiveFloats(into: dst, from: member)
            }
        }
    }
}
