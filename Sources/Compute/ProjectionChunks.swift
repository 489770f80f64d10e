/// How a job of stacked weight matrices ("parts") is cut into chunks that pool threads claim.
///
/// Guided from both ends: the dispatching thread claims chunks from the front and the workers
/// from the back (`Job`), each chunk taking 1/(2T) of the rows still unassigned, so the first
/// claims at either end are large and the chunks where the threads meet are small. With
/// equal chunks (4 per thread) the join waited on average half a chunk: 2.7 MB of the 178 MB
/// head at batch-1 decode. Edges fall on multiples of 8 rows from a part's start (the batched
/// kernels' tile height); a chunk spans one part and holds at least its part's `minRows`.
enum ProjectionChunks {
    struct Chunk: Equatable {
        let part: Int
        let lo: Int, hi: Int
    }

    /// `rows[p]` and `minRows[p]` per part; the chunks in row order, covering every row once.
    static func plan(rows: [Int], minRows: [Int], threads: Int) -> [Chunk] {
        precondition(rows.count == minRows.count, "ProjectionChunks: \(rows.count) parts, \(minRows.count) minimums")
        let starts = rows.reduce(into: [0]) { $0.append($0.last! + $1) }
        // Cursors: the front's next row and the back's end row, as (part, row within part).
        var front = (part: 0, row: 0), back = (part: rows.count - 1, row: rows.last ?? 0)
        var head: [Chunk] = [], tail: [Chunk] = []
        func unassigned() -> Int { starts[back.part] + back.row - starts[front.part] - front.row }
        func want(_ p: Int) -> Int { threads == 1 ? rows[p] : max(minRows[p], unassigned() / (2 * threads)) }
        func normalize() {
            while front.part < back.part && front.row == rows[front.part] { front = (front.part + 1, 0) }
            while back.part > front.part && back.row == 0 { back = (back.part - 1, rows[back.part - 1]) }
        }
        normalize()
        while unassigned() > 0 {
            // One claim at the front for every (threads - 1) at the back.
            let p = front.part, limit = p == back.part ? back.row : rows[p]
            var hi = min(limit, (front.row + want(p) + 7) / 8 * 8)
            if limit - hi < minRows[p] { hi = limit }  // no sliver of a chunk before the limit
            head.append(Chunk(part: p, lo: front.row, hi: hi))
            front.row = hi
            normalize()
            for _ in 1..<max(threads, 1) where unassigned() > 0 {
                let p = back.part, limit = p == front.part ? front.row : 0
                var lo = max(limit, (back.row - want(p)) / 8 * 8)
                if lo - limit < minRows[p] { lo = limit }
                tail.append(Chunk(part: p, lo: lo, hi: back.row))
                back.row = lo
                normalize()
            }
        }
        return head + tail.reversed()
    }
}
