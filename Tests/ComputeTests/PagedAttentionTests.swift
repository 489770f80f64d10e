import Compute
import Foundation
import Testing

@Suite struct PagedAttentionTests {
    /// Dense causal GQA attention, straight from the definition.
    func reference(q: [[Float]], k: [[Float]], v: [[Float]], numHeads: Int, numKV: Int, headDim: Int,
                   firstPosition: Int, scale: Float, window: Int?) -> [[Float]] {
        let group = numHeads / numKV
        return q.indices.map { i in
            let pos = firstPosition + i
            let lo = window.map { max(0, pos - $0 + 1) } ?? 0
            var out = [Float](repeating: 0, count: numHeads * headDim)
            for h in 0..<numHeads {
                let kh = h / group
                let scores = (lo...pos).map { p in
                    (0..<headDim).map { q[i][h * headDim + $0] * k[p][kh * headDim + $0] }.reduce(0, +) * scale
                }
                let m = scores.max()!
                let e = scores.map { exp($0 - m) }
                let z = e.reduce(0, +)
                for (j, p) in (lo...pos).enumerated() {
                    for d in 0..<headDim { out[h * headDim + d] += e[j] / z * v[p][kh * headDim + d] }
                }
            }
            return out
        }
    }

    /// Random keys and values for positions 0..<positions, written to the slots `table` maps them to.
    func writeRandom(_ cache: PagedKVCache, positions: Int, table: [Int32], _ rng: inout SeededRandom) -> (k: [[Float]], v: [[Float]]) {
        let width = cache.numKVHeads * cache.headDim, blockSize = cache.blockSize
        let k = (0..<positions).map { _ in (0..<width).map { _ in rng.next() } }
        let v = (0..<positions).map { _ in (0..<width).map { _ in rng.next() } }
        let slots = (0..<positions).map { table[$0 / blockSize] * Int32(blockSize) + Int32($0 % blockSize) }
        cache.write(keys: Tensor(shape: [positions, width], values: k.flatMap { $0 }),
                    values: Tensor(shape: [positions, width], values: v.flatMap { $0 }), slotMapping: slots)
        return (k, v)
    }

    @Test(arguments: [nil, 3] as [Int?])
    func matchesDenseReferenceOnScatteredBlocks(window: Int?) {
        var rng = SeededRandom(seed: 11)
        let numHeads = 4, numKV = 2, headDim = 8, blockSize = 2, total = 7, first = 4
        let cache = PagedKVCache(numBlocks: 8, blockSize: blockSize, numKVHeads: numKV, headDim: headDim)
        let table: [Int32] = [6, 1, 7, 3]
        let (k, v) = writeRandom(cache, positions: total, table: table, &rng)
        let q = (first..<total).map { _ in (0..<numHeads * headDim).map { _ in rng.next() } }
        let out = pagedAttention(
            queries: Tensor(shape: [q.count, numHeads * headDim], values: q.flatMap { $0 }), cache: cache,
            sequences: [AttentionSequence(queryRows: 0..<q.count, firstPosition: first, blockTable: table)],
            numHeads: numHeads, scale: 0.35, slidingWindow: window)
        let expected = reference(q: q, k: k, v: v, numHeads: numHeads, numKV: numKV, headDim: headDim,
                                 firstPosition: first, scale: 0.35, window: window)
        #expect(maxDiff(out.toArray(), expected.flatMap { $0 }) < 1e-5)
    }

    /// Long chunks take the GEMM path (≥ 16 rows, in chunks of 128 query rows); a short chunk and
    /// a decode row in the same batch keep the per-row kernel. All must match the definition.
    @Test(arguments: [nil, 37] as [Int?])
    func prefillChunksMatchDenseReference(window: Int?) {
        var rng = SeededRandom(seed: 12)
        let numHeads = 4, numKV = 2, headDim = 16, blockSize = 4
        let cache = PagedKVCache(numBlocks: 120, blockSize: blockSize, numKVHeads: numKV, headDim: headDim)
        // (total positions, first query position): a 150-row chunk after 20 cached tokens, a 9-row chunk, one decode row.
        let shapes = [(170, 20), (9, 0), (30, 29)]
        var nextBlock: Int32 = 119
        var sequences: [AttentionSequence] = [], queries: [[Float]] = [], expected: [[Float]] = []
        for (total, first) in shapes {
            var table: [Int32] = []
            for _ in 0..<((total + blockSize - 1) / blockSize) { table.append(nextBlock); nextBlock -= 1 }  // scattered, descending
            let (k, v) = writeRandom(cache, positions: total, table: table, &rng)
            let q = (first..<total).map { _ in (0..<numHeads * headDim).map { _ in rng.next() } }
            sequences.append(AttentionSequence(queryRows: queries.count..<(queries.count + q.count), firstPosition: first, blockTable: table))
            queries += q
            expected += reference(q: q, k: k, v: v, numHeads: numHeads, numKV: numKV, headDim: headDim,
                                  firstPosition: first, scale: 0.25, window: window)
        }
        let out = pagedAttention(queries: Tensor(shape: [queries.count, numHeads * headDim], values: queries.flatMap { $0 }),
                                 cache: cache, sequences: sequences, numHeads: numHeads, scale: 0.25, slidingWindow: window,
                                 pool: ThreadPool(threads: 3))
        #expect(maxDiff(out.toArray(), expected.flatMap { $0 }) < 1e-4)
    }
}
