@testable import Compute
import Testing

/// The prefetcher learns a step's projection sequence and, when one projection starts, offers
/// what followed it last time, cut at `lookahead` bytes; each projection's bytes from its end,
/// the part pool workers claim (`Job`).
@Suite struct WeightPrefetcherTests {
    /// Three "projections" of real memory (a prefetch never faults, but the test stays honest).
    let a = [UInt8](repeating: 1, count: 10_000), b = [UInt8](repeating: 2, count: 20_000), c = [UInt8](repeating: 3, count: 5_000)

    func region(_ bytes: [UInt8]) -> WeightRegion {
        bytes.withUnsafeBytes { WeightRegion(address: Int(bitPattern: $0.baseAddress), bytes: $0.count) }
    }

    @Test func offersWhatFollowedLastTimeUpToTheLookahead() {
        let p = WeightPrefetcher(lookahead: 1 << 20)
        let (ra, rb, rc) = (region(a), region(b), region(c))
        p.willRead([ra])
        #expect(p.windowRegions.isEmpty, "nothing learned yet")
        p.willRead([rb]); p.willRead([rc]); p.willRead([ra])
        // After A came B, after B came C, after C came A again: the chain stops once it cycles
        // through all three (8 hops at most), so A's window holds B, C, A, B, ...
        #expect(Array(p.windowRegions.prefix(3)) == [rb, rc, ra])

        let small = WeightPrefetcher(lookahead: 25_000)
        small.willRead([ra]); small.willRead([rb]); small.willRead([rc]); small.willRead([ra])
        #expect(small.windowRegions == [rb, rc])
        let tight = WeightPrefetcher(lookahead: 21_000)
        tight.willRead([ra]); tight.willRead([rb]); tight.willRead([rc]); tight.willRead([ra])
        #expect(tight.windowRegions == [rb, WeightRegion(address: rc.address + 4_000, bytes: 1_000)], "C's last 1000 bytes")
    }

    /// A projection of several parts is offered last part first, each from its end.
    @Test func offersEachProjectionFromItsEnd() {
        let p = WeightPrefetcher(lookahead: 1 << 20)
        let (ra, rb, rc) = (region(a), region(b), region(c))
        p.willRead([ra]); p.willRead([rb, rc]); p.willRead([ra])
        #expect(Array(p.windowRegions.prefix(3)) == [rc, rb, ra])
        let piece = WeightPrefetcher.piece
        let window = WeightPrefetcher.Window([rc, rb], backward: true)
        #expect(window.piece(at: 0) == WeightRegion(address: rc.address + rc.bytes - piece, bytes: piece))
        #expect(window.piece(at: piece) == WeightRegion(address: rc.address, bytes: rc.bytes - piece), "up to the region's start")
        #expect(window.piece(at: rc.bytes) == WeightRegion(address: rb.address + rb.bytes - piece, bytes: piece))
        #expect(window.piece(at: rc.bytes + rb.bytes) == nil)
        #expect(WeightPrefetcher.Window([rc]).piece(at: piece) == WeightRegion(address: rc.address + piece, bytes: rc.bytes - piece),
                "forward windows (the KV context) go from the start")
    }

    @Test func relearnsWhenTheSequenceChanges() {
        let p = WeightPrefetcher(lookahead: 15_000)
        let (ra, rb, rc) = (region(a), region(b), region(c))
        p.willRead([ra]); p.willRead([rb]); p.willRead([ra])
        #expect(p.windowRegions == [WeightRegion(address: rb.address + 5_000, bytes: 15_000)])
        p.willRead([rc]); p.willRead([ra])  // now C follows A
        #expect(p.windowRegions.first == rc)
    }

    @Test func stepsThroughTheWindowPieceByPieceThenStops() {
        let p = WeightPrefetcher(lookahead: 1 << 20)
        let (ra, rb, rc) = (region(a), region(b), region(c))
        #expect(!p.step(), "no window yet")
        p.willRead([ra]); p.willRead([rb, rc]); p.willRead([ra])
        let total = p.windowRegions.reduce(0) { $0 + $1.bytes }
        var steps = 0
        while p.step() { steps += 1 }
        #expect(steps == (total + WeightPrefetcher.piece - 1) / WeightPrefetcher.piece)
        #expect(!p.step())
        p.willReadFirst([rc])  // a new window after a drained one is stepped through again
        #expect(p.step() && p.step() && !p.step(), "5000 bytes: two pieces")
        p.willRead([rb, rc]); p.willRead([ra])
        #expect(p.step(), "reopened after it was drained")
    }

    @Test func zeroLookaheadIsOff() {
        let p = WeightPrefetcher(lookahead: 0)
        p.willRead([region(a)]); p.willRead([region(b)]); p.willRead([region(a)])
        p.willReadFirst([region(c)])
        #expect(p.windowRegions.isEmpty && !p.step())
    }

    /// Bytes announced with `willReadFirst` (a layer's KV context) are fetched before the
    /// projections' window, stay first while projections start, and give way to the next such bytes.
    @Test func readFirstComesFirstAndOutlivesProjections() {
        let p = WeightPrefetcher(lookahead: 1 << 20)
        let (ra, rb, rc) = (region(a), region(b), region(c))
        p.willReadFirst([rc])
        #expect(p.windowRegions == [rc], "no projection window yet: the context alone")
        p.willRead([ra]); p.willRead([rb]); p.willRead([ra])  // A's window: B, A, B, ...
        #expect(Array(p.windowRegions.prefix(3)) == [rc, rb, ra], "C first, still unfetched")
        p.willRead([rb])  // the next projection starts: its window replaces A's, C stays first
        #expect(Array(p.windowRegions.prefix(2)) == [rc, ra])
        p.willReadFirst([rb])
        #expect(p.windowRegions.first == rb, "newer context bytes replace older ones")
        let piece = WeightPrefetcher.piece, aheadBytes = p.windowRegions.dropFirst().reduce(0) { $0 + $1.bytes }
        let pieces = (rb.bytes + piece - 1) / piece + (aheadBytes + piece - 1) / piece  // each window in its own pieces
        var steps = 0
        while p.step() { steps += 1 }
        #expect(steps == pieces)
    }
}
