@testable import Compute
import Testing

/// Chunk plans for stacked projections: every row once, in order, within one part, edges on
/// 8-row tiles, no chunk under its part's minimum, large at both ends and small where the
/// front thread and the back threads meet.
@Suite struct ProjectionChunksTests {
    static let shapes: [(rows: [Int], minRows: [Int])] = [
        ([1536], [16]), ([1024, 256, 256], [32, 16, 16]), ([2048, 2048], [40, 40]), ([262_144], [96]),
        ([640], [640]), ([12], [16]), ([5, 300, 9], [16, 16, 16]), ([1000], [16]),
    ]

    @Test(arguments: [1, 2, 3, 4])
    func plansCoverEveryRowOnceWithinParts(threads: Int) {
        for (rows, minRows) in Self.shapes {
            let chunks = ProjectionChunks.plan(rows: rows, minRows: minRows, threads: threads)
            var expected = (part: 0, row: 0)
            for c in chunks {
                while expected.part < rows.count && expected.row == rows[expected.part] { expected = (expected.part + 1, 0) }
                #expect(c.part == expected.part && c.lo == expected.row && c.hi > c.lo, "\(rows) threads \(threads): \(c)")
                #expect(c.hi - c.lo >= min(minRows[c.part], rows[c.part]), "\(rows): \(c) under the minimum")
                #expect(c.lo % 8 == 0 || c.lo == 0, "\(rows): \(c) starts off a tile")
                #expect(c.hi % 8 == 0 || c.hi == rows[c.part], "\(rows): \(c) ends off a tile")
                expected.row = c.hi
            }
            #expect(expected.part == rows.count - 1 && expected.row == rows.last!, "\(rows) threads \(threads): all rows")
            if threads == 1 { #expect(chunks.count == rows.count, "one chunk per part on one thread") }
        }
    }

    @Test func chunksShrinkTowardWhereTheThreadsMeet() {
        let chunks = ProjectionChunks.plan(rows: [262_144], minRows: [96], threads: 2)
        let sizes = chunks.map { $0.hi - $0.lo }
        #expect(sizes.first == 262_144 / 4 && sizes.last == (262_144 - sizes[0]) / 4, "a quarter of the rows left at each end: \(sizes)")
        // Away from the meeting point each chunk is larger than its inner neighbour.
        let meeting = sizes.firstIndex(of: sizes.min()!)!
        #expect(zip(sizes[..<(meeting - 1)], sizes[1..<meeting]).allSatisfy { $0 > $1 }, "\(sizes)")
        #expect(zip(sizes[(meeting + 2)...], sizes[(meeting + 3)...]).allSatisfy { $0 < $1 }, "\(sizes)")
        #expect(sizes.max() == sizes.first && sizes.filter { $0 <= 96 * 2 }.count <= 6, "\(sizes)")
        // Three workers take the back: the front's share is about a quarter.
        let four = ProjectionChunks.plan(rows: [262_144], minRows: [96], threads: 4)
        let firstSmall = four.firstIndex { $0.hi - $0.lo == four.map { $0.hi - $0.lo }.min()! }!
        #expect(abs(four[firstSmall].lo - 262_144 / 4) < 262_144 / 16, "meeting point near the quarter: \(four[firstSmall])")
    }
}
