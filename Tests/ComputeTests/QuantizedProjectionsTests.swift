import Compute
import Testing

/// Stacked quantized projections (q/k/v, gate/up) run as one pool job on one quantized input;
/// every output column must be what its own projection computes alone.
@Suite struct QuantizedProjectionsTests {
    // m = 6 takes the tile kernels (from 4 rows), m = 1 the decode kernels.
    @Test(arguments: [1, 6], [1, 3])
    func stackedPartsMatchSeparateCalls(m: Int, threads: Int) {
        var rng = QuantRandom(seed: 900 + UInt64(m))
        let cols = 256
        func part(_ type: QuantType, rows: Int, bias: Bool = false) -> QuantizedLinear {
            var w = randomWeights(type, rows: rows, cols: cols, &rng)
            if type == .q8_0 {  // no -128 quants, so the Q8_0 part is repacked too
                for i in stride(from: 0, to: w.bytes.count, by: 34) { for k in (i + 2)..<(i + 34) where w.bytes[k] == 0x80 { w.bytes[k] = 0x81 } }
            }
            let matrix = QuantizedMatrix(type: type, rows: rows, cols: cols, copying: w.bytes).repackedForDecode()
            return QuantizedLinear(weight: matrix, bias: bias ? Tensor(shape: [rows], values: (0..<rows).map { _ in rng.float() }) : nil)
        }
        // Two activation formats (32-element blocks and K super-blocks) plus f32, both layouts, a bias.
        let parts = [part(.q5_0, rows: 40), part(.q8_0, rows: 16), part(.q5_K, rows: 24, bias: true), part(.q4_K, rows: 16),
                     part(.q6_K, rows: 8), part(.f16, rows: 8)]
        #expect(parts[0].weight.layout == .interleaved8 && parts[2].weight.layout == .rows && parts[3].weight.layout == .interleaved8)
        let x = Tensor(shape: [m, cols], values: (0..<(m * cols)).map { _ in rng.float() })
        let pool = ThreadPool(threads: threads)
        let stacked = ConcatenatedLinear(parts)(x, pool: pool)
        #expect(stacked.shape == [m, 112])
        var column = 0
        for p in parts {
            let alone = p(x, pool: pool)
            for r in 0..<m {
                #expect(Array(UnsafeBufferPointer(start: stacked.row(r) + column, count: p.outFeatures)) == alone.row(r).toArrayOf(p.outFeatures),
                        "\(p.weight.type) rows at column \(column), m=\(m), threads=\(threads)")
            }
            column += p.outFeatures
        }
    }

    /// Parts big enough for many guided chunks (shrinking, 8-row aligned, no sliver at a part's
    /// end): any thread count gives the single-thread result exactly, also when one layer's
    /// cached chunk list is rebuilt for another pool. 40 rows quantize x in parallel.
    @Test(arguments: [1, 5, 40])
    func guidedChunksCoverEveryRowOnce(m: Int) {
        var rng = QuantRandom(seed: 950 + UInt64(m))
        let cols = 256
        let parts = [(QuantType.q8_0, 1000), (.q4_K, 613), (.q6_K, 136)].map { type, rows in
            QuantizedLinear(weight: QuantizedMatrix(type: type, rows: rows, cols: cols, copying: randomWeights(type, rows: rows, cols: cols, &rng).bytes))
        }
        let x = Tensor(shape: [m, cols], values: (0..<(m * cols)).map { _ in rng.float() })
        let stacked = ConcatenatedLinear(parts)
        let single = stacked(x, pool: ThreadPool(threads: 1)).toArray()
        for threads in [2, 3, 4, 2] {
            #expect(stacked(x, pool: ThreadPool(threads: threads)).toArray() == single, "threads=\(threads)")
            #expect(ConcatenatedLinear(parts)(x, pool: ThreadPool(threads: threads)).toArray() == single, "threads=\(threads), new layer")
        }
    }

    @Test func splittingColumnsCopiesEachBlock() {
        let t = Tensor(shape: [2, 5], values: [0, 1, 2, 3, 4, 10, 11, 12, 13, 14])
        let parts = t.splittingColumns([3, 0, 2])
        #expect(parts.map(\.shape) == [[2, 3], [2, 0], [2, 2]])
        #expect(parts[0].toArray() == [0, 1, 2, 10, 11, 12] && parts[2].toArray() == [3, 4, 13, 14])
        #expect(t.columnBlocks([3, 0, 2]).map { $0.toArray() } == parts.map { $0.toArray() }, "two rows: copies")
    }

    /// One row (a decode step's q/k/v): the blocks are views of the row, written through in place.
    @Test func columnBlocksOfOneRowAreViews() {
        let t = Tensor(shape: [2, 5], values: [0, 1, 2, 3, 4, 10, 11, 12, 13, 14]).rows(1..<2)
        let blocks = t.columnBlocks([3, 0, 2])
        #expect(blocks.map(\.shape) == [[1, 3], [1, 0], [1, 2]])
        #expect(blocks[0].toArray() == [10, 11, 12] && blocks[2].toArray() == [13, 14])
        blocks[2][0, 1] = 99
        #expect(t.toArray() == [10, 11, 12, 13, 99])
    }
}

private extension UnsafeMutablePointer<Float> {
    func toArrayOf(_ n: Int) -> [Float] { Array(UnsafeBufferPointer(start: self, count: n)) }
}
